package dev.streamtools;

/**
 * A message body that cannot be decoded into what its route expects. Such a message is dead-lettered
 * at once (HTTP: answered 400) and never retried: retrying cannot make bad bytes good.
 */
public class MessageDecodeException extends StreamtoolsException {

  private static final long serialVersionUID = 1L;

  private final String messageId;

  /**
   * @param message the message that did not decode
   * @param reason what was wrong with it
   */
  public MessageDecodeException(Message message, String reason) {
    this(message, reason, null);
  }

  /**
   * @param message the message that did not decode
   * @param reason what was wrong with it
   * @param cause the decoder's failure, or {@code null}
   */
  public MessageDecodeException(Message message, String reason, Throwable cause) {
    super(null, message.queue(), "message " + message.id() + " cannot be decoded: " + reason, cause);
    this.messageId = message.id();
  }

  /** @return the id of the message that did not decode */
  public String messageId() {
    return messageId;
  }
}
