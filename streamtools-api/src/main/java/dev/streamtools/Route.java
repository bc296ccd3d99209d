package dev.streamtools;

import java.util.Objects;

/**
 * A queue paired with its handler and options, as {@link ConsumerFactory#route(String, MessageHandler)}
 * records it.
 *
 * @param queue the queue
 * @param handler the handler; typed routes decode before calling the user's {@link TypedHandler}
 * @param options the route's options
 */
public record Route(String queue, MessageHandler handler, RouteOptions options) {

  /**
   * @param queue the queue
   * @param handler the handler
   * @param options the route's options
   */
  public Route {
    Objects.requireNonNull(queue, "queue");
    Objects.requireNonNull(handler, "handler");
    Objects.requireNonNull(options, "options");
  }
}
