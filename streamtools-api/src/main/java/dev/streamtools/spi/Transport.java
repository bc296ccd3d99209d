package dev.streamtools.spi;

import dev.streamtools.ConsumerLoop;
import dev.streamtools.Producer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.Set;

/**
 * A transport module's entry point, found with {@link java.util.ServiceLoader}: a module lists its
 * implementation in {@code META-INF/services/dev.streamtools.spi.Transport}, and its name appears in
 * {@link dev.streamtools.Transports#PRODUCERS} and {@link dev.streamtools.Transports#CONSUMER_LOOPS}.
 *
 * <p>A transport maps what its client receives to a {@link Delivery} and hands it to a
 * {@link Dispatcher}; it decides nothing about retries or dead letters itself.
 */
public interface Transport {

  /** @return the name users select it by, lower case, for example {@code kafka} */
  String name();

  /** @return other accepted names, such as the Python seed's {@code KafkaHandler}; may be empty */
  default Set<String> aliases() {
    return Set.of();
  }

  /**
   * @param vertx the Vert.x instance
   * @param queue the queue
   * @param config settings by their environment names; they override the environment
   * @return a new producer
   */
  Producer createProducer(Vertx vertx, String queue, JsonObject config);

  /**
   * @param vertx the Vert.x instance
   * @param queue the queue
   * @param config settings by their environment names; they override the environment
   * @return a new consumer loop
   */
  ConsumerLoop createConsumerLoop(Vertx vertx, String queue, JsonObject config);
}
