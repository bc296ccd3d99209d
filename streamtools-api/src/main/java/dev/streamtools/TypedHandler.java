package dev.streamtools;

import io.vertx.core.Future;

/**
 * A handler of decoded messages, for typed routes such as
 * {@code consumers.route("orders", Order.class, order -> ...)}. A body that does not decode into the
 * route's type never reaches it: the message is dead-lettered at once.
 *
 * @param <T> the type the JSON body decodes into
 */
@FunctionalInterface
public interface TypedHandler<T> {

  /**
   * @param value the decoded body
   * @return a Future completed when the value is handled
   * @throws Exception any failure, treated like a failed Future
   */
  Future<Void> handle(T value) throws Exception;
}
