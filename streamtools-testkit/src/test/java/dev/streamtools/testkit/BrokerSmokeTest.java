package dev.streamtools.testkit;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Proves scripts/brokers.sh brought both brokers up: each answers its own protocol on loopback. */
class BrokerSmokeTest {

  @Test
  void rabbitMqAnswersTheAmqpHandshake() {
    assertThat(Brokers.requireRabbitMq()).startsWith("RabbitMQ");
  }

  @Test
  void kafkaAnswersApiVersions() {
    assertThat(Brokers.requireKafka()).isGreaterThan(10);
  }
}
