package dev.streamtools.rabbitmq;

import dev.streamtools.ConsumerLoop;
import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.RouteOptions;
import dev.streamtools.Transports;
import dev.streamtools.testkit.Brokers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.streamtools.rabbitmq.Rmq.join;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The broker itself drops the connections (rabbitmqctl close_all_connections on the test vhost) or restarts
 * (stop_app / start_app) while several publishers stream into a queue that competing consumers drain. Every
 * send that reported success must be consumed; duplicates are counted and must stay within what a lost
 * connection can cause: per outage, the consumers' prefetch (handled, ack not yet at the broker) plus the
 * publishers' confirm windows (stored, confirm lost, resent by the publisher after its send failed).
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class RabbitMqBrokerFaultTest {

  private static final Duration LONG_WAIT = Duration.ofSeconds(120);

  private Vertx vertx;
  private final List<String> queues = new ArrayList<>();
  private final List<Producer> producers = new ArrayList<>();
  private final List<ConsumerLoop> loops = new ArrayList<>();

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (ConsumerLoop l : loops) {
      join(l.close());
    }
    for (Producer p : producers) {
      join(p.close());
    }
    join(vertx.close());
    Rmq.deleteQueuesOn(Rmq.FAULT_VHOST, queues.toArray(new String[0]));
  }

  @Test
  void tenThousandMessagesFromFourPublishersSurviveForcedConnectionCloses() throws Exception {
    // 4 x 125 messages a second: the stream lasts about 20 s, long enough for rabbitmqctl (1-3 s a call on a
    // busy 2-core machine) to close the connections twice in the middle of it
    Stream run = new Stream(Rmq.queue("10k"), Rmq.faultConfig(), 4, 2_500, 8, 2, 50);
    run.start();
    run.faultAt(2_500, Rmq::closeFaultVhostConnections);
    run.faultAt(7_000, Rmq::closeFaultVhostConnections);
    run.finishAndCheck(2);
  }

  @Test
  void brokerRestartMidStreamLosesNoConfirmedMessage() throws Exception {
    // 2 x 100 messages a second for about 10 s; the restart takes 4-6 s
    Stream run = new Stream(Rmq.queue("restart"), Rmq.faultConfig(), 2, 1_000, 10, 1, 50);
    run.start();
    run.faultAt(400, () -> {
      try {
        Rmq.rabbitmqctl("stop_app");
      } finally {
        Rmq.rabbitmqctl("start_app");
        await().atMost(Rmq.WAIT).ignoreExceptions().until(() -> Brokers.requireRabbitMq() != null);
      }
    });
    run.finishAndCheck(1);
  }

  @FunctionalInterface
  interface Fault {
    void run() throws Exception;
  }

  /** Paced publishers that resend a failed send (as an application would) and consumers that count. */
  private final class Stream {
    private final String queue;
    private final JsonObject config;
    private final String connectionName;
    private final int publishers;
    private final int perPublisher;
    private final long tickMillis;
    private final int consumers;
    private final int maxInFlight;
    private final int confirmWindow;
    private final Set<String> confirmed = ConcurrentHashMap.newKeySet();
    private final AtomicInteger failedSends = new AtomicInteger();
    private final Map<String, AtomicInteger> deliveries = new ConcurrentHashMap<>();
    private final AtomicInteger deliveryCount = new AtomicInteger();
    private int outages;
    private long startNanos;

    /**
     * @param tickMillis each publisher sends one message every this many milliseconds
     */
    Stream(String queue, JsonObject config, int publishers, int perPublisher, long tickMillis, int consumers,
           int maxInFlight) {
      this.queue = queue;
      this.tickMillis = tickMillis;
      // a name of this run's own: other clients on the vhost (a parallel build, a leftover) are not counted
      this.connectionName = "streamtools-fault-" + java.util.UUID.randomUUID();
      this.config = config.copy().put(RabbitMqSettings.CONNECTION_NAME, connectionName);
      this.publishers = publishers;
      this.perPublisher = perPublisher;
      this.consumers = consumers;
      this.maxInFlight = maxInFlight;
      this.confirmWindow = config.getInteger(RabbitMqSettings.CONFIRM_WINDOW, 192);
      queues.add(queue);
    }

    int total() {
      return publishers * perPublisher;
    }

    void start() throws Exception {
      for (int c = 0; c < consumers; c++) {
        ConsumerLoop loop = Transports.CONSUMER_LOOPS.get(Transports.RABBITMQ).create(vertx, queue, config);
        loops.add(loop);
        join(loop.start(m -> {
          deliveryCount.incrementAndGet();
          deliveries.computeIfAbsent(m.id(), k -> new AtomicInteger()).incrementAndGet();
          return Future.succeededFuture();
        }, RouteOptions.defaults().maxInFlight(maxInFlight)));
      }
      startNanos = System.nanoTime();
      for (int p = 0; p < publishers; p++) {
        Producer producer = Transports.PRODUCERS.get(Transports.RABBITMQ).create(vertx, queue, config);
        producers.add(producer);
        join(producer.init());
        int publisher = p;
        int[] next = {0};
        vertx.setPeriodic(tickMillis, id -> {
          Message m = Message.json(new JsonObject().put("publisher", publisher).put("n", next[0]))
            .withId("p" + publisher + "-" + next[0]);
          next[0]++;
          send(producer, m);
          if (next[0] >= perPublisher) {
            vertx.cancelTimer(id);
          }
        });
      }
    }

    private void send(Producer producer, Message m) {
      producer.send(m).onComplete(ar -> {
        if (ar.succeeded()) {
          confirmed.add(m.id());
        } else {
          failedSends.incrementAndGet();
          vertx.setTimer(100, t -> send(producer, m));
        }
      });
    }

    void faultAt(int confirmedCount, Fault fault) throws Exception {
      Set<String> connectionsBefore = Rmq.connectionPids(Rmq.FAULT_VHOST, connectionName);
      await().atMost(LONG_WAIT).until(() -> confirmed.size() >= confirmedCount);
      int before = confirmed.size();
      fault.run();
      int after = confirmed.size();
      outages++;
      System.out.printf("[%s] fault %d: %d confirmed when it began, %d when it ended%n", queue, outages, before, after);
      assertThat(connectionsBefore).as("publishers' and consumers' connections").hasSize(publishers + consumers);
      assertThat(after).as("the fault landed in the middle of the stream").isLessThan(total());
      // every connection was replaced by a new one
      await().atMost(LONG_WAIT).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
        Set<String> now = Rmq.connectionPids(Rmq.FAULT_VHOST, connectionName);
        assertThat(now).hasSize(publishers + consumers).doesNotContainAnyElementsOf(connectionsBefore);
      });
    }

    void finishAndCheck(int expectedOutages) throws Exception {
      assertThat(outages).isEqualTo(expectedOutages);
      await().atMost(LONG_WAIT).until(() -> confirmed.size() == total());
      double seconds = (System.nanoTime() - startNanos) / 1e9;
      await().atMost(LONG_WAIT).until(() -> deliveries.keySet().containsAll(confirmed));
      // late redeliveries: wait until the broker holds nothing of the queue, ready or unacked
      await().atMost(LONG_WAIT).pollInterval(Duration.ofMillis(500))
        .until(() -> Rmq.unacked(Rmq.FAULT_VHOST, queue) == 0 && Rmq.ready(Rmq.FAULT_VHOST, queue) == 0);

      Set<String> lost = new HashSet<>(confirmed);
      lost.removeAll(deliveries.keySet());
      int distinct = deliveries.size();
      int duplicates = deliveryCount.get() - distinct;
      int bound = outages * (consumers * maxInFlight + publishers * confirmWindow);
      System.out.printf("[%s] %d publishers x %d (one per %d ms each), %d consumers (prefetch %d each), "
          + "confirm window %d, %d outage(s), %.1f s: confirmed %d, failed sends resent %d, deliveries %d, "
          + "distinct %d, lost %d, duplicates %d (bound %d)%n", queue, publishers, perPublisher, tickMillis,
        consumers, maxInFlight, confirmWindow, outages, seconds, confirmed.size(), failedSends.get(),
        deliveryCount.get(), distinct, lost.size(), duplicates, bound);

      assertThat(lost).as("confirmed but never consumed").isEmpty();
      assertThat(distinct).as("nothing but what was sent").isEqualTo(total());
      assertThat(duplicates).isLessThanOrEqualTo(bound);
      // a finer bound: consumer redeliveries per outage, plus at most one stored copy per failed send
      assertThat(duplicates).isLessThanOrEqualTo(outages * consumers * maxInFlight + failedSends.get());
    }
  }
}
