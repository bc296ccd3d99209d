package dev.streamtools.kafka;

import dev.streamtools.Transports;
import dev.streamtools.testkit.Brokers;
import dev.streamtools.testkit.Features;
import dev.streamtools.testkit.TransportConformanceSuite;
import dev.streamtools.testkit.TransportUnderTest;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;

/** The conformance suite on the real Kafka broker ({@code scripts/brokers.sh up}). */
class KafkaConformanceTest extends TransportConformanceSuite {

  @BeforeAll
  static void brokerIsUp() {
    Brokers.requireKafka();
  }

  @Override
  protected TransportUnderTest transportUnderTest() {
    return new TransportUnderTest(Transports.KAFKA,
      new Features(true, true, true, false, true, true),
      new JsonObject().put(KafkaTransport.BOOTSTRAP_SERVERS, Brokers.kafkaBootstrapServers()));
  }

  @Override
  protected int messageCount() {
    return 1000;
  }

  @Override
  protected void restartBroker() throws Exception {
    Brokers.restartKafka();
  }
}
