package dev.streamtools;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.Objects;

/**
 * A consumer loop to be created: queue, transport and settings. {@link ConsumerFactory#instances()}
 * holds one per route; the runner creates the loops on its own Vert.x instance.
 *
 * @param queue the queue
 * @param transport the canonical transport name
 * @param config settings by their environment names
 */
public record ConsumerInstance(String queue, String transport, JsonObject config) {

  /**
   * @param queue the queue
   * @param transport the canonical transport name
   * @param config settings by their environment names
   */
  public ConsumerInstance {
    Objects.requireNonNull(queue, "queue");
    Objects.requireNonNull(transport, "transport");
    config = config == null ? new JsonObject() : config.copy();
  }

  /**
   * @param vertx the Vert.x instance to run on
   * @return a new consumer loop for this queue
   */
  public ConsumerLoop create(Vertx vertx) {
    return Transports.CONSUMER_LOOPS.get(transport).create(vertx, queue, config.copy());
  }
}
