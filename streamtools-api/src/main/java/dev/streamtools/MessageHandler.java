package dev.streamtools;

import io.vertx.core.Future;

/**
 * Handles one message. Success of the returned Future acks the message; failure, a thrown exception,
 * or a Future that does not complete within the handler timeout applies the route's
 * {@link FailurePolicy}. A {@code null} Future is a failure too.
 *
 * <p>Called on a Vert.x event-loop thread: do not block it (use {@code vertx.executeBlocking}).
 */
@FunctionalInterface
public interface MessageHandler {

  /**
   * @param message the message
   * @return a Future completed when the message is handled
   * @throws Exception any failure, treated like a failed Future
   */
  Future<Void> handle(Message message) throws Exception;
}
