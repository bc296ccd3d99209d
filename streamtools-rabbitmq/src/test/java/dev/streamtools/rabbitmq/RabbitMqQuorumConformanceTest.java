package dev.streamtools.rabbitmq;

import dev.streamtools.Transports;
import dev.streamtools.testkit.Brokers;
import dev.streamtools.testkit.Features;
import dev.streamtools.testkit.TransportConformanceSuite;
import dev.streamtools.testkit.TransportUnderTest;
import org.junit.jupiter.api.AfterAll;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** The shared conformance suite again, with every queue a quorum queue ({@code RMQ_QUEUE_TYPE=quorum}). */
class RabbitMqQuorumConformanceTest extends TransportConformanceSuite {

  private static final List<String> QUEUES = new CopyOnWriteArrayList<>();

  @Override
  protected TransportUnderTest transportUnderTest() {
    return new TransportUnderTest(Transports.RABBITMQ,
      new Features(true, true, true, false, true, true),
      Rmq.config().put(RabbitMqSettings.QUEUE_TYPE, "quorum"));
  }

  @Override
  protected String queue(String base) {
    String q = super.queue("quorum-" + base);
    QUEUES.add(q);
    return q;
  }

  @AfterAll
  static void deleteQueues() {
    Rmq.deleteQueues(QUEUES.toArray(new String[0]));
  }

  @Override
  protected void restartBroker() throws Exception {
    Brokers.restartRabbitMq();
  }
}
