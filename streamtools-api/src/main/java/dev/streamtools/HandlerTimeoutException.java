package dev.streamtools;

import java.time.Duration;

/** A handler whose Future did not complete within {@link FailurePolicy#handlerTimeout()}. */
public class HandlerTimeoutException extends StreamtoolsException {

  private static final long serialVersionUID = 1L;

  /**
   * @param transport the transport name
   * @param queue the queue
   * @param messageId the message being handled
   * @param timeout the timeout that passed
   */
  public HandlerTimeoutException(String transport, String queue, String messageId, Duration timeout) {
    super(transport, queue, "handler for message " + messageId + " did not complete within " + timeout.toMillis()
      + " ms", null);
  }
}
