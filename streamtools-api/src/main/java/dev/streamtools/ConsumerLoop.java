package dev.streamtools;

import io.vertx.core.Future;

/**
 * Receives the messages of one queue (topic, HTTP path) and hands them to one handler.
 *
 * <p>Contract, the same on every transport:
 * <ul>
 *   <li>{@link #init()} connects and declares topology; idempotent; {@code start} calls it.</li>
 *   <li>At most {@link RouteOptions#maxInFlight()} messages are in the handler at once; the transport
 *   stops fetching (prefetch, partition pause, request queueing) rather than buffering without bound.</li>
 *   <li>A handler's success acks the message; failure applies the {@link FailurePolicy}; a message that
 *   cannot be decoded is dead-lettered at once. No message ends the loop.</li>
 *   <li>{@link #close()} stops taking new messages, waits up to {@link RouteOptions#drainTimeout()} for
 *   those in the handler, acks what finished and leaves the rest to be redelivered (persistent
 *   transports). It is idempotent and safe to call while messages are in flight.</li>
 *   <li>Handlers run on the loop's Vert.x event-loop context.</li>
 * </ul>
 */
public interface ConsumerLoop {

  /** @return the transport name */
  String transport();

  /** @return the queue this loop consumes */
  String queue();

  /**
   * Connects and declares topology; idempotent.
   *
   * @return a Future completed when the loop can start
   */
  Future<Void> init();

  /**
   * Starts consuming with default route options.
   *
   * @param handler the handler
   * @return a Future completed when messages flow to the handler
   */
  default Future<Void> start(MessageHandler handler) {
    return start(handler, RouteOptions.DEFAULTS);
  }

  /**
   * Starts consuming; a loop consumes with one handler and starts once.
   *
   * @param handler the handler
   * @param options in-flight bound, failure policy, drain timeout, HTTP method
   * @return a Future completed when messages flow to the handler
   */
  Future<Void> start(MessageHandler handler, RouteOptions options);

  /**
   * Starts consuming for a route built by {@link ConsumerFactory}.
   *
   * @param route the route
   * @return a Future completed when messages flow to the route's handler
   */
  default Future<Void> start(Route route) {
    return start(route.handler(), route.options());
  }

  /** @return {@code true} while started, connected and not closing: the runner's readiness */
  boolean isReady();

  /**
   * Stops intake, drains in-flight messages (bounded), acks what finished, closes; idempotent.
   *
   * @return a Future completed when the loop is closed
   */
  Future<Void> close();
}
