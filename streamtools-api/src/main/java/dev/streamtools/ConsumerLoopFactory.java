package dev.streamtools;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/** Creates consumer loops of one transport; the values of {@link Transports#CONSUMER_LOOPS}. */
public interface ConsumerLoopFactory {

  /** @return the transport name */
  String transport();

  /**
   * @param vertx the Vert.x instance the loop runs on
   * @param queue the queue (topic, HTTP path) to consume
   * @return a consumer loop configured from the environment
   */
  default ConsumerLoop create(Vertx vertx, String queue) {
    return create(vertx, queue, new JsonObject());
  }

  /**
   * @param vertx the Vert.x instance the loop runs on
   * @param queue the queue (topic, HTTP path) to consume
   * @param config settings by their environment names ({@code RMQ_HOST} ...); they override the environment
   * @return a consumer loop
   */
  ConsumerLoop create(Vertx vertx, String queue, JsonObject config);
}
