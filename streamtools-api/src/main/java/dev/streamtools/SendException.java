package dev.streamtools;

/**
 * A {@link Producer#send(Message)} that the transport did not take: refused, not confirmed,
 * timed out, or the connection was gone. The message may be sent again.
 */
public class SendException extends StreamtoolsException {

  private static final long serialVersionUID = 1L;

  private final String messageId;

  /**
   * @param transport the transport name
   * @param queue the destination queue
   * @param messageId the id of the message that was not taken
   * @param reason why it was not taken
   * @param cause the client library's failure, or {@code null}
   */
  public SendException(String transport, String queue, String messageId, String reason, Throwable cause) {
    super(transport, queue, "send of message " + messageId + " failed: " + reason, cause);
    this.messageId = messageId;
  }

  /** @return the id of the message that was not taken */
  public String messageId() {
    return messageId;
  }
}
