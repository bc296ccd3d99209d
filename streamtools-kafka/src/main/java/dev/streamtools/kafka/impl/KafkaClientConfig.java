package dev.streamtools.kafka.impl;

import dev.streamtools.ConfigException;
import dev.streamtools.kafka.KafkaTransport;
import dev.streamtools.spi.Settings;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The settings of one producer or consumer loop, read once at creation, and the Kafka client properties
 * built from them. Immutable.
 */
public final class KafkaClientConfig {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaClientConfig.class);

  static final String DEFAULT_BOOTSTRAP = "127.0.0.1:9092";
  static final String PASS_THROUGH_PREFIX = "kafka.";
  static final String ENV_PASS_THROUGH_PREFIX = "KAFKA_CLIENT_";
  private static final Pattern TOPIC_NAME = Pattern.compile("[a-zA-Z0-9._-]{1,249}");
  // Values of these properties are secrets or may embed one; they are never written to a log.
  private static final Pattern SENSITIVE = Pattern.compile(
    ".*(password|secret|jaas|token|credential|user\\.info|keystore\\.key|private).*", Pattern.CASE_INSENSITIVE);

  enum Role { PRODUCER, CONSUMER, ADMIN }

  private final String topic;
  private final Settings settings;
  private final String bootstrapServers;
  private final String groupId;
  private final boolean createTopics;
  private final int topicPartitions;
  private final short topicReplication;
  private final int maxInFlightPerPartition;
  private final long commitIntervalMillis;
  private final long pollTimeoutMillis;
  private final long closeTimeoutMillis;
  private final long startTimeoutMillis;
  private final Map<String, Object> common;
  private final Map<Role, Map<String, Object>> scoped;
  private final Map<String, String> env;

  private KafkaClientConfig(String topic, Settings settings, Map<String, String> env) {
    this.topic = topic;
    this.settings = settings;
    this.env = env;
    this.bootstrapServers = settings.string(KafkaTransport.BOOTSTRAP_SERVERS, DEFAULT_BOOTSTRAP);
    this.groupId = settings.string(KafkaTransport.GROUP_ID, "streamtools-" + topic);
    this.createTopics = settings.bool(KafkaTransport.CREATE_TOPICS, true);
    this.topicPartitions = settings.integer(KafkaTransport.TOPIC_PARTITIONS, 3);
    int replication = settings.integer(KafkaTransport.TOPIC_REPLICATION, -1);
    if (replication > Short.MAX_VALUE || replication == 0 || replication < -1) {
      throw new ConfigException("setting " + KafkaTransport.TOPIC_REPLICATION + " must be -1 (broker default) or "
        + "a positive replication factor, was " + replication);
    }
    if (topicPartitions == 0 || topicPartitions < -1) {
      throw new ConfigException("setting " + KafkaTransport.TOPIC_PARTITIONS + " must be -1 (broker default) or "
        + "a positive partition count, was " + topicPartitions);
    }
    this.topicReplication = (short) replication;
    this.maxInFlightPerPartition = positive(settings, KafkaTransport.MAX_IN_FLIGHT_PER_PARTITION, 1);
    this.commitIntervalMillis = positive(settings, KafkaTransport.COMMIT_INTERVAL_MS, 100);
    this.pollTimeoutMillis = positive(settings, KafkaTransport.POLL_TIMEOUT_MS, 100);
    this.closeTimeoutMillis = positive(settings, KafkaTransport.CLOSE_TIMEOUT_MS, 30_000);
    this.startTimeoutMillis = positive(settings, KafkaTransport.START_TIMEOUT_MS, 60_000);
    this.common = new TreeMap<>();
    this.scoped = new LinkedHashMap<>();
    for (Role r : Role.values()) {
      scoped.put(r, new TreeMap<>());
    }
    readPassThrough(settings.config(), env);
  }

  /**
   * @param topic the topic (queue) the client works on
   * @param config the factory's config object, may be {@code null}
   * @return the settings, from config, environment and defaults
   * @throws ConfigException if the topic name or a setting is invalid
   */
  public static KafkaClientConfig of(String topic, JsonObject config) {
    return of(topic, config, System.getenv());
  }

  static KafkaClientConfig of(String topic, JsonObject config, Map<String, String> env) {
    requireTopicName(topic);
    return new KafkaClientConfig(topic, Settings.of(config, env), env);
  }

  static void requireTopicName(String topic) {
    if (topic == null || !TOPIC_NAME.matcher(topic).matches() || topic.equals(".") || topic.equals("..")) {
      throw new ConfigException("queue '" + topic + "' is not a valid Kafka topic name: use 1-249 characters "
        + "from a-z, A-Z, 0-9, '.', '_' and '-'");
    }
  }

  /** The same settings for another topic (the dead-letter topic of a consumer). */
  KafkaClientConfig forTopic(String otherTopic) {
    requireTopicName(otherTopic);
    return new KafkaClientConfig(otherTopic, settings, env);
  }

  private static int positive(Settings settings, String name, int defaultValue) {
    int v = settings.integer(name, defaultValue);
    if (v < 1) {
      throw new ConfigException("setting " + name + " must be at least 1, was " + v);
    }
    return v;
  }

  private void readPassThrough(JsonObject config, Map<String, String> env) {
    env.forEach((name, value) -> {
      if (name.startsWith(ENV_PASS_THROUGH_PREFIX) && name.length() > ENV_PASS_THROUGH_PREFIX.length()
        && value != null && !value.isEmpty()) {
        String property = name.substring(ENV_PASS_THROUGH_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.');
        common.put(property, value);
      }
    });
    Object nested = config.getValue("kafka");
    if (nested instanceof JsonObject) {
      ((JsonObject) nested).forEach(e -> put(e.getKey(), e.getValue(), "kafka"));
    } else if (nested != null) {
      throw new ConfigException("config key 'kafka' must be an object of Kafka client properties");
    }
    config.forEach(e -> {
      if (e.getKey().startsWith(PASS_THROUGH_PREFIX)) {
        put(e.getKey().substring(PASS_THROUGH_PREFIX.length()), e.getValue(), e.getKey());
      }
    });
  }

  private void put(String property, Object value, String where) {
    if (value instanceof JsonObject || value == null) {
      throw new ConfigException("config key '" + where + "' must hold a Kafka client property value "
        + "(string, number or boolean)");
    }
    String v = value.toString();
    for (Role r : Role.values()) {
      String prefix = r.name().toLowerCase(Locale.ROOT) + ".";
      if (property.startsWith(prefix) && property.length() > prefix.length()) {
        scoped.get(r).put(property.substring(prefix.length()), v);
        return;
      }
    }
    common.put(property, v);
  }

  /** @return the topic */
  public String topic() {
    return topic;
  }

  String bootstrapServers() {
    return bootstrapServers;
  }

  /** @return the consumer group id: the {@code group.id} pass-through property, or the setting */
  String groupId() {
    Object passed = scoped.get(Role.CONSUMER).getOrDefault(ConsumerConfig.GROUP_ID_CONFIG,
      common.get(ConsumerConfig.GROUP_ID_CONFIG));
    return passed != null ? passed.toString() : groupId;
  }

  boolean createTopics() {
    return createTopics;
  }

  int topicPartitions() {
    return topicPartitions;
  }

  short topicReplication() {
    return topicReplication;
  }

  int maxInFlightPerPartition() {
    return maxInFlightPerPartition;
  }

  Duration commitInterval() {
    return Duration.ofMillis(commitIntervalMillis);
  }

  Duration pollTimeout() {
    return Duration.ofMillis(pollTimeoutMillis);
  }

  long closeTimeoutMillis() {
    return closeTimeoutMillis;
  }

  long startTimeoutMillis() {
    return startTimeoutMillis;
  }

  /** @return the producer properties: acks=all and idempotence unless overridden */
  Map<String, Object> producerProperties() {
    Map<String, Object> p = new TreeMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    String acks = settings.string(KafkaTransport.ACKS, "all");
    p.put(ProducerConfig.ACKS_CONFIG, acks);
    boolean allAcks = acks.equals("all") || acks.equals("-1");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, Boolean.toString(settings.bool(KafkaTransport.ENABLE_IDEMPOTENCE,
      allAcks)));
    p.put(ProducerConfig.LINGER_MS_CONFIG, Integer.toString(settings.integer(KafkaTransport.LINGER_MS, 5)));
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(settings.integer(KafkaTransport.BATCH_SIZE, 65_536)));
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, settings.string(KafkaTransport.COMPRESSION_TYPE, "none"));
    addPassThrough(p, Role.PRODUCER, ProducerConfig.configNames());
    String finalAcks = String.valueOf(p.get(ProducerConfig.ACKS_CONFIG));
    boolean idempotenceChosen = settings.string(KafkaTransport.ENABLE_IDEMPOTENCE, null) != null
      || explicitlySet(Role.PRODUCER, ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG);
    if (!(finalAcks.equals("all") || finalAcks.equals("-1")) && !idempotenceChosen) {
      // Kafka refuses idempotence without acks=all; a user who lowered acks asked for less, not for an error.
      p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
    }
    return p;
  }

  /** @return the consumer properties: the group, offset reset, and never auto-commit */
  Map<String, Object> consumerProperties() {
    Map<String, Object> p = new TreeMap<>();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, settings.string(KafkaTransport.AUTO_OFFSET_RESET, "earliest"));
    addPassThrough(p, Role.CONSUMER, ConsumerConfig.configNames());
    Object autoCommit = p.get(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG);
    if (autoCommit != null && !"false".equalsIgnoreCase(autoCommit.toString())) {
      LOG.warn("[kafka queue '{}'] ignoring enable.auto.commit={}: streamtools commits an offset only when every "
        + "record before it was handled; auto-commit would commit records that were fetched but not handled, and "
        + "lose them on a crash", topic, autoCommit);
    }
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    return p;
  }

  /** @return the admin client properties */
  Map<String, Object> adminProperties() {
    Map<String, Object> p = new TreeMap<>();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    addPassThrough(p, Role.ADMIN, AdminClientConfig.configNames());
    return p;
  }

  private boolean explicitlySet(Role role, String property) {
    return common.containsKey(property) || scoped.get(role).containsKey(property);
  }

  // Common properties go to every client that knows them (a consumer-only property given to a producer
  // makes kafka-clients warn); ones no client knows (plugin settings) go to all. Scoped ones always apply.
  private void addPassThrough(Map<String, Object> target, Role role, Set<String> known) {
    common.forEach((k, v) -> {
      if (known.contains(k) || !isKnownToAnyClient(k)) {
        target.put(k, v);
      }
    });
    target.putAll(scoped.get(role));
  }

  private static boolean isKnownToAnyClient(String property) {
    return ProducerConfig.configNames().contains(property) || ConsumerConfig.configNames().contains(property)
      || AdminClientConfig.configNames().contains(property);
  }

  /**
   * @param properties client properties
   * @return them for a log line: names with values, secrets masked
   */
  static String describe(Map<String, Object> properties) {
    StringBuilder sb = new StringBuilder("{");
    properties.forEach((k, v) -> {
      if (sb.length() > 1) {
        sb.append(", ");
      }
      sb.append(k).append('=').append(SENSITIVE.matcher(k).matches() ? "[hidden]" : String.valueOf(v));
    });
    return sb.append('}').toString();
  }
}
