package dev.streamtools;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/** Creates producers of one transport; the values of {@link Transports#PRODUCERS}. */
public interface ProducerFactory {

  /** @return the transport name */
  String transport();

  /**
   * @param vertx the Vert.x instance the producer runs on
   * @param queue the queue (topic, HTTP path) to send to
   * @return a producer configured from the environment; call {@link Producer#init()} before sending
   */
  default Producer create(Vertx vertx, String queue) {
    return create(vertx, queue, new JsonObject());
  }

  /**
   * @param vertx the Vert.x instance the producer runs on
   * @param queue the queue (topic, HTTP path) to send to
   * @param config settings by their environment names ({@code RMQ_HOST} ...); they override the environment
   * @return a producer; call {@link Producer#init()} before sending
   */
  Producer create(Vertx vertx, String queue, JsonObject config);
}
