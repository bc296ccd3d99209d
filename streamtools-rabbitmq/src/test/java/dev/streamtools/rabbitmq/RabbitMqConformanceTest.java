package dev.streamtools.rabbitmq;

import dev.streamtools.Transports;
import dev.streamtools.testkit.Brokers;
import dev.streamtools.testkit.Features;
import dev.streamtools.testkit.TransportConformanceSuite;
import dev.streamtools.testkit.TransportUnderTest;
import org.junit.jupiter.api.AfterAll;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** The shared conformance suite, on the real RabbitMQ server. */
class RabbitMqConformanceTest extends TransportConformanceSuite {

  private static final List<String> QUEUES = new CopyOnWriteArrayList<>();

  @Override
  protected TransportUnderTest transportUnderTest() {
    return new TransportUnderTest(Transports.RABBITMQ,
      new Features(true, true, true, false, true, true),
      Rmq.config());
  }

  @Override
  protected int messageCount() {
    return 1000;
  }

  @Override
  protected String queue(String base) {
    String q = super.queue(base);
    QUEUES.add(q);
    return q;
  }

  // after every test's loops are closed: deleting a consumed queue would only make its loop re-declare it
  @AfterAll
  static void deleteQueues() {
    Rmq.deleteQueues(QUEUES.toArray(new String[0]));
  }

  @Override
  protected void restartBroker() throws Exception {
    Brokers.restartRabbitMq();
  }
}
