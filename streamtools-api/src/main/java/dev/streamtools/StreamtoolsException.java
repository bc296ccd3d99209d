package dev.streamtools;

/**
 * The base of every streamtools failure. Its message says what failed, where (transport and queue)
 * and why; the cause, when there is one, is the client library's own exception.
 */
public class StreamtoolsException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String transport;
  private final String queue;

  /**
   * @param transport the transport name, or {@code null} when none applies
   * @param queue the queue, or {@code null} when none applies
   * @param message what failed and why
   * @param cause the underlying failure, or {@code null}
   */
  public StreamtoolsException(String transport, String queue, String message, Throwable cause) {
    super(prefix(transport, queue) + message, cause);
    this.transport = transport;
    this.queue = queue;
  }

  /** @return the transport name, or {@code null} */
  public String transport() {
    return transport;
  }

  /** @return the queue, or {@code null} */
  public String queue() {
    return queue;
  }

  private static String prefix(String transport, String queue) {
    if (transport == null && queue == null) {
      return "";
    }
    if (queue == null) {
      return "[" + transport + "] ";
    }
    if (transport == null) {
      return "[queue '" + queue + "'] ";
    }
    return "[" + transport + " queue '" + queue + "'] ";
  }
}
