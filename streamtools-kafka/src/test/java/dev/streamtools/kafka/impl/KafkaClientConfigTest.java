package dev.streamtools.kafka.impl;

import dev.streamtools.ConfigException;
import dev.streamtools.kafka.KafkaTransport;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How settings and pass-through properties become Kafka client properties; no broker needed. */
class KafkaClientConfigTest {

  private static KafkaClientConfig config(JsonObject json, Map<String, String> env) {
    return KafkaClientConfig.of("orders", json, env);
  }

  @Test
  void defaultsAreSafeForProduction() {
    KafkaClientConfig c = config(new JsonObject(), Map.of());
    assertThat(c.producerProperties())
      .containsEntry("bootstrap.servers", "127.0.0.1:9092")
      .containsEntry("acks", "all")
      .containsEntry("enable.idempotence", "true")
      .containsEntry("linger.ms", "5")
      .containsEntry("batch.size", "65536")
      .containsEntry("compression.type", "none");
    assertThat(c.consumerProperties())
      .containsEntry("group.id", "streamtools-orders")
      .containsEntry("auto.offset.reset", "earliest")
      .containsEntry("enable.auto.commit", "false");
    assertThat(c.groupId()).isEqualTo("streamtools-orders");
    assertThat(c.maxInFlightPerPartition()).isEqualTo(1);
    assertThat(c.createTopics()).isTrue();
    assertThat(c.topicPartitions()).isEqualTo(3);
    assertThat(c.topicReplication()).isEqualTo((short) -1);
  }

  @Test
  void configKeysWinOverTheEnvironment() {
    KafkaClientConfig c = config(new JsonObject().put(KafkaTransport.BOOTSTRAP_SERVERS, "broker-a:9092")
      .put(KafkaTransport.GROUP_ID, "billing"), Map.of(KafkaTransport.BOOTSTRAP_SERVERS, "broker-env:9092",
      KafkaTransport.LINGER_MS, "20", KafkaTransport.COMPRESSION_TYPE, "zstd"));
    assertThat(c.producerProperties()).containsEntry("bootstrap.servers", "broker-a:9092")
      .containsEntry("linger.ms", "20").containsEntry("compression.type", "zstd");
    assertThat(c.consumerProperties()).containsEntry("group.id", "billing");
  }

  @Test
  void anyKafkaPropertyPassesThroughFromConfigAndEnvironment() {
    KafkaClientConfig c = config(new JsonObject()
        .put("kafka.security.protocol", "SASL_SSL")
        .put("kafka", new JsonObject().put("sasl.mechanism", "SCRAM-SHA-512"))
        .put("kafka.consumer.max.poll.records", 100)
        .put("kafka.producer.linger.ms", 50)
        .put("kafka.admin.request.timeout.ms", 1000),
      Map.of("KAFKA_CLIENT_SSL_TRUSTSTORE_LOCATION", "/etc/kafka/truststore.jks"));
    for (Map<String, Object> p : java.util.List.of(c.producerProperties(), c.consumerProperties(),
      c.adminProperties())) {
      assertThat(p).containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
        .containsEntry("ssl.truststore.location", "/etc/kafka/truststore.jks");
    }
    assertThat(c.consumerProperties()).containsEntry("max.poll.records", "100");
    assertThat(c.producerProperties()).doesNotContainKey("max.poll.records").containsEntry("linger.ms", "50");
    assertThat(c.adminProperties()).containsEntry("request.timeout.ms", "1000");
    assertThat(c.producerProperties()).doesNotContainKey("request.timeout.ms");
  }

  @Test
  void aPropertyOnlyTheConsumerKnowsIsNotGivenToTheProducer() {
    KafkaClientConfig c = config(new JsonObject().put("kafka.session.timeout.ms", 10_000)
      .put("kafka.my.interceptor.setting", "x"), Map.of());
    assertThat(c.consumerProperties()).containsEntry("session.timeout.ms", "10000");
    assertThat(c.producerProperties()).doesNotContainKey("session.timeout.ms");
    // unknown to every client (a plugin's setting): given to all, the plugin may need it anywhere
    assertThat(c.producerProperties()).containsEntry("my.interceptor.setting", "x");
    assertThat(c.consumerProperties()).containsEntry("my.interceptor.setting", "x");
  }

  @Test
  void autoCommitCannotBeTurnedOn() {
    KafkaClientConfig c = config(new JsonObject().put("kafka.enable.auto.commit", true), Map.of());
    assertThat(c.consumerProperties()).containsEntry("enable.auto.commit", "false");
    KafkaClientConfig fromEnv = config(new JsonObject(), Map.of("KAFKA_CLIENT_ENABLE_AUTO_COMMIT", "true"));
    assertThat(fromEnv.consumerProperties()).containsEntry("enable.auto.commit", "false");
  }

  @Test
  void groupIdMayComeFromThePassThroughProperty() {
    KafkaClientConfig c = config(new JsonObject().put("kafka.group.id", "legacy-group"), Map.of());
    assertThat(c.groupId()).isEqualTo("legacy-group");
    assertThat(c.consumerProperties()).containsEntry("group.id", "legacy-group");
  }

  @Test
  void lowerAcksTurnIdempotenceOffUnlessAskedFor() {
    assertThat(config(new JsonObject().put(KafkaTransport.ACKS, "1"), Map.of()).producerProperties())
      .containsEntry("acks", "1").containsEntry("enable.idempotence", "false");
    assertThat(config(new JsonObject().put("kafka.acks", "0"), Map.of()).producerProperties())
      .containsEntry("acks", "0").containsEntry("enable.idempotence", "false");
    // an explicit contradiction is left for Kafka to refuse, with its own clear message
    assertThat(config(new JsonObject().put(KafkaTransport.ACKS, "1").put(KafkaTransport.ENABLE_IDEMPOTENCE, true),
      Map.of()).producerProperties()).containsEntry("enable.idempotence", "true");
  }

  @Test
  void describeHidesSecrets() {
    String line = KafkaClientConfig.describe(new java.util.TreeMap<>(Map.of(
      "bootstrap.servers", "b:9092",
      "sasl.jaas.config", "PlainLoginModule required password=\"p\";",
      "ssl.keystore.password", "p",
      "ssl.key.password", "p",
      "ssl.keystore.key", "-----BEGIN PRIVATE KEY-----",
      "sasl.oauthbearer.token.endpoint.url", "https://idp",
      "basic.auth.user.info", "u:p")));
    assertThat(line).contains("bootstrap.servers=b:9092").doesNotContain("password=\"p\"")
      .doesNotContain("=p,").doesNotContain("=p}").doesNotContain("PRIVATE KEY").doesNotContain("u:p");
    assertThat(line.split("\\[hidden]", -1)).hasSize(7);
  }

  @Test
  void invalidTopicNamesAndSettingsFailWithTheSettingNamed() {
    assertThatThrownBy(() -> config(new JsonObject(), Map.of()).forTopic("bad topic!"))
      .isInstanceOf(ConfigException.class).hasMessageContaining("bad topic!");
    assertThatThrownBy(() -> KafkaClientConfig.of("a/b", new JsonObject(), Map.of()))
      .isInstanceOf(ConfigException.class).hasMessageContaining("a/b");
    assertThatThrownBy(() -> config(new JsonObject().put(KafkaTransport.MAX_IN_FLIGHT_PER_PARTITION, 0), Map.of()))
      .isInstanceOf(ConfigException.class).hasMessageContaining(KafkaTransport.MAX_IN_FLIGHT_PER_PARTITION);
    assertThatThrownBy(() -> config(new JsonObject().put(KafkaTransport.TOPIC_REPLICATION, 0), Map.of()))
      .isInstanceOf(ConfigException.class).hasMessageContaining(KafkaTransport.TOPIC_REPLICATION);
    assertThatThrownBy(() -> config(new JsonObject().put("kafka", "not an object"), Map.of()))
      .isInstanceOf(ConfigException.class).hasMessageContaining("kafka");
  }
}
