package dev.streamtools.kafka;

import dev.streamtools.ConsumerLoop;
import dev.streamtools.Producer;
import dev.streamtools.Transports;
import dev.streamtools.kafka.impl.KafkaClientConfig;
import dev.streamtools.kafka.impl.KafkaConsumerLoop;
import dev.streamtools.kafka.impl.KafkaTopicProducer;
import dev.streamtools.spi.Transport;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.Set;

/**
 * The {@code kafka} transport (alias {@code KafkaHandler}), on the Kafka Java client that vertx-kafka-client
 * brings (its admin client creates topics): a queue is a Kafka topic.
 *
 * <p>Guarantees: a send completes when the broker acknowledged the record ({@code acks=all}, idempotent
 * producer), with its partition and offset, and fails with a {@link dev.streamtools.SendException} otherwise.
 * Sends never block a thread: a record the Kafka producer has no room for yet (metadata, {@code buffer.memory})
 * waits, in order, for up to {@code max.block.ms}. {@code KafkaProducer.send} runs on the producer's event loop,
 * so a pass-through {@code partitioner.class} or {@code interceptor.classes} must not block either. While a
 * record waits, each offer the client refuses (1 to 50 ms apart) counts in the producer's
 * {@code record-error-rate} metric and reaches an interceptor's {@code onSendError}, as the client reports it;
 * only the send's own Future says whether the record was finally sent. A
 * consumer loop is one member of its consumer group and commits offsets itself, only up to the first record
 * whose handler has not finished (at-least-once: a crash or a lost partition redelivers what was handled
 * after the last commit, never skips anything). With the default one record in flight per partition, records
 * of one key are handled in order. A failing record is retried in place (its partition waits), then written to
 * {@code <topic>.dlq} with the reason in headers; a body the route cannot decode goes there at once.
 *
 * <p>Settings are read by {@link dev.streamtools.spi.Settings}: the config object first, then the
 * environment, then the default below.
 *
 * <table>
 *   <caption>Settings</caption>
 *   <tr><th>setting</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@value #BOOTSTRAP_SERVERS}</td><td>{@code 127.0.0.1:9092}</td><td>the brokers</td></tr>
 *   <tr><td>{@value #GROUP_ID}</td><td>{@code streamtools-<topic>}</td><td>consumer group of a consumer loop</td></tr>
 *   <tr><td>{@value #AUTO_OFFSET_RESET}</td><td>{@code earliest}</td><td>where a group without a committed
 *   offset starts: {@code earliest} means a new group sees the messages already in the topic</td></tr>
 *   <tr><td>{@value #ACKS}</td><td>{@code all}</td><td>producer acks</td></tr>
 *   <tr><td>{@value #ENABLE_IDEMPOTENCE}</td><td>{@code true} (when acks is all)</td><td>idempotent producer</td></tr>
 *   <tr><td>{@value #LINGER_MS}</td><td>{@code 5}</td><td>producer batching delay</td></tr>
 *   <tr><td>{@value #BATCH_SIZE}</td><td>{@code 65536}</td><td>producer batch size in bytes, per partition</td></tr>
 *   <tr><td>{@value #COMPRESSION_TYPE}</td><td>{@code none}</td><td>none, gzip, snappy, lz4, zstd</td></tr>
 *   <tr><td>{@value #CREATE_TOPICS}</td><td>{@code true}</td><td>{@code init()} creates the topic (and a
 *   consumer's dead-letter topic) when missing, through the Admin client</td></tr>
 *   <tr><td>{@value #TOPIC_PARTITIONS}</td><td>{@code 3}</td><td>partitions of created topics; -1 = broker
 *   default</td></tr>
 *   <tr><td>{@value #TOPIC_REPLICATION}</td><td>{@code -1}</td><td>replication factor of created topics;
 *   -1 = the broker's {@code default.replication.factor}</td></tr>
 *   <tr><td>{@value #MAX_IN_FLIGHT_PER_PARTITION}</td><td>{@code 1}</td><td>records of one partition in the
 *   handler at once (including one waiting for a retry); 1 keeps per-key order</td></tr>
 *   <tr><td>{@value #COMMIT_INTERVAL_MS}</td><td>{@code 100}</td><td>how often finished offsets are committed</td></tr>
 *   <tr><td>{@value #POLL_TIMEOUT_MS}</td><td>{@code 100}</td><td>longest wait of one poll</td></tr>
 *   <tr><td>{@value #CLOSE_TIMEOUT_MS}</td><td>{@code 30000}</td><td>how long a producer's close waits for
 *   unacknowledged sends</td></tr>
 *   <tr><td>{@value #START_TIMEOUT_MS}</td><td>{@code 60000}</td><td>how long a consumer loop's start waits
 *   for its first partition assignment</td></tr>
 * </table>
 *
 * <p>Any Kafka client property passes through: config keys {@code kafka.<property>} (for example
 * {@code "kafka.security.protocol": "SASL_SSL"}), a nested object {@code "kafka": {"<property>": ...}},
 * environment variables {@code KAFKA_CLIENT_<PROPERTY>} (upper case, dots as underscores, for example
 * {@code KAFKA_CLIENT_SASL_JAAS_CONFIG}); {@code kafka.producer.<property>}, {@code kafka.consumer.<property>}
 * and {@code kafka.admin.<property>} apply to one client only. A pass-through property wins over the
 * settings above. {@code enable.auto.commit} is always {@code false}: offsets are committed only for
 * handled records. Property values are never logged.
 */
public final class KafkaTransport implements Transport {

  /** Setting: the bootstrap servers. */
  public static final String BOOTSTRAP_SERVERS = "KAFKA_BOOTSTRAP_SERVERS";
  /** Setting: the consumer group id. */
  public static final String GROUP_ID = "KAFKA_GROUP_ID";
  /** Setting: {@code auto.offset.reset} of consumers. */
  public static final String AUTO_OFFSET_RESET = "KAFKA_AUTO_OFFSET_RESET";
  /** Setting: producer {@code acks}. */
  public static final String ACKS = "KAFKA_ACKS";
  /** Setting: producer {@code enable.idempotence}. */
  public static final String ENABLE_IDEMPOTENCE = "KAFKA_ENABLE_IDEMPOTENCE";
  /** Setting: producer {@code linger.ms}. */
  public static final String LINGER_MS = "KAFKA_LINGER_MS";
  /** Setting: producer {@code batch.size}. */
  public static final String BATCH_SIZE = "KAFKA_BATCH_SIZE";
  /** Setting: producer {@code compression.type}. */
  public static final String COMPRESSION_TYPE = "KAFKA_COMPRESSION_TYPE";
  /** Setting: whether {@code init()} creates missing topics. */
  public static final String CREATE_TOPICS = "KAFKA_CREATE_TOPICS";
  /** Setting: partitions of created topics. */
  public static final String TOPIC_PARTITIONS = "KAFKA_TOPIC_PARTITIONS";
  /** Setting: replication factor of created topics. */
  public static final String TOPIC_REPLICATION = "KAFKA_TOPIC_REPLICATION";
  /** Setting: records of one partition in the handler at once. */
  public static final String MAX_IN_FLIGHT_PER_PARTITION = "KAFKA_MAX_IN_FLIGHT_PER_PARTITION";
  /** Setting: milliseconds between offset commits. */
  public static final String COMMIT_INTERVAL_MS = "KAFKA_COMMIT_INTERVAL_MS";
  /** Setting: longest wait of one poll, in milliseconds. */
  public static final String POLL_TIMEOUT_MS = "KAFKA_POLL_TIMEOUT_MS";
  /** Setting: how long a producer's close waits for unacknowledged sends, in milliseconds. */
  public static final String CLOSE_TIMEOUT_MS = "KAFKA_CLOSE_TIMEOUT_MS";
  /** Setting: how long a consumer loop's start waits for its first assignment, in milliseconds. */
  public static final String START_TIMEOUT_MS = "KAFKA_START_TIMEOUT_MS";

  /** Record header carrying the source partition on a dead letter. */
  public static final String DEAD_LETTER_PARTITION_HEADER = "x-dead-letter-partition";
  /** Record header carrying the source offset on a dead letter. */
  public static final String DEAD_LETTER_OFFSET_HEADER = "x-dead-letter-offset";

  @Override
  public String name() {
    return Transports.KAFKA;
  }

  @Override
  public Set<String> aliases() {
    return Set.of("KafkaHandler");
  }

  @Override
  public Producer createProducer(Vertx vertx, String queue, JsonObject config) {
    return new KafkaTopicProducer(vertx, queue, KafkaClientConfig.of(queue, config));
  }

  @Override
  public ConsumerLoop createConsumerLoop(Vertx vertx, String queue, JsonObject config) {
    return new KafkaConsumerLoop(vertx, queue, KafkaClientConfig.of(queue, config));
  }
}
