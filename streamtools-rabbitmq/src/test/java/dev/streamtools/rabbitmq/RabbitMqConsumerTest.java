package dev.streamtools.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.streamtools.ConsumerLoop;
import dev.streamtools.FailurePolicy;
import dev.streamtools.Message;
import dev.streamtools.MessageHeaders;
import dev.streamtools.Producer;
import dev.streamtools.RouteOptions;
import dev.streamtools.SendOptions;
import dev.streamtools.Transports;
import dev.streamtools.testkit.Received;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.streamtools.rabbitmq.Rmq.join;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The consumer side as RabbitMQ sees it: prefetch, dead letters a plain client can read, topology. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RabbitMqConsumerTest {

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
    Rmq.deleteQueues(queues.toArray(new String[0]));
  }

  @Test
  void prefetchIsMaxInFlightAndQueuesAreOfTheConfiguredType() throws Exception {
    String classic = queue("prefetch");
    String quorum = queue("quorum");
    loop(classic, Rmq.config(), RouteOptions.defaults().maxInFlight(7), m -> Future.succeededFuture());
    loop(quorum, Rmq.config().put(RabbitMqSettings.QUEUE_TYPE, "quorum"), RouteOptions.defaults().maxInFlight(3),
      m -> Future.succeededFuture());

    String consumers = Rmq.rabbitmqctl("list_consumers", "-q", "queue_name", "ack_required", "prefetch_count");
    assertThat(consumers).containsPattern(classic + "\\s+true\\s+7\\b").containsPattern(quorum + "\\s+true\\s+3\\b");
    String types = Rmq.rabbitmqctl("list_queues", "-q", "name", "type", "durable");
    assertThat(types)
      .containsPattern(classic + "\\s+classic\\s+true")
      .containsPattern(quorum + "\\s+quorum\\s+true")
      .containsPattern(classic + "\\.dlq\\s+classic\\s+true")
      .containsPattern(quorum + "\\.dlq\\s+quorum\\s+true");
  }

  @Test
  void deadLetterIsReadableByAPlainClientWithTheReasonInHeaders() throws Exception {
    String queue = queue("dead");
    FailurePolicy policy = FailurePolicy.defaults().maxAttempts(2).backoff(Duration.ofMillis(10), 1.0, Duration.ofMillis(10));
    java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
    loop(queue, Rmq.config(), RouteOptions.defaults().failurePolicy(policy), m -> {
      calls.incrementAndGet();
      return Future.failedFuture(new IllegalStateException("payment service down"));
    });
    Producer producer = producer(queue);
    Message sent = Message.json(new JsonObject().put("order", 1)).withHeader("tenant", "acme");
    join(producer.send(sent));

    try (Connection c = Rmq.plainConnection()) {
      Channel ch = c.createChannel();
      GetResponse r = Rmq.get(ch, queue + ".dlq");
      AMQP.BasicProperties p = r.getProps();
      Map<String, Object> h = p.getHeaders();
      assertThat(r.getBody()).isEqualTo(sent.body().getBytes());
      assertThat(p.getMessageId()).isEqualTo(sent.id());
      assertThat(p.getDeliveryMode()).isEqualTo(2);
      assertThat(h.get(MessageHeaders.DEAD_LETTER_REASON)).asString().contains("payment service down");
      assertThat(h.get(MessageHeaders.DEAD_LETTER_ATTEMPTS)).hasToString("2");
      assertThat(h.get(MessageHeaders.DEAD_LETTER_QUEUE)).hasToString(queue);
      assertThat(h.get(MessageHeaders.DEAD_LETTER_TRANSPORT)).hasToString(Transports.RABBITMQ);
      assertThat(h.get(MessageHeaders.DEAD_LETTER_EXCEPTION)).hasToString(IllegalStateException.class.getName());
      assertThat(h.get("tenant")).hasToString("acme");
      assertThat(h).doesNotContainKey(MessageHeaders.ATTEMPT);
      assertThat(ch.messageCount(queue)).as("nothing left in the queue").isZero();
    }
    assertThat(calls).hasValue(2);
  }

  @Test
  void anExpiredMessageIsDeadLetteredByTheBroker() throws Exception {
    String queue = queue("ttl");
    Producer producer = producer(queue);
    Message m = Message.text("short-lived");
    join(producer.send(m, SendOptions.defaults().ttl(Duration.ofMillis(1))));

    try (Connection c = Rmq.plainConnection()) {
      GetResponse r = Rmq.get(c.createChannel(), queue + ".dlq");
      assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo("short-lived");
      assertThat(r.getProps().getMessageId()).isEqualTo(m.id());
      assertThat(r.getProps().getHeaders()).containsKey("x-death");
    }
  }

  @Test
  void aQueueDeclaredByAnotherApplicationIsUsedAsItIs() throws Exception {
    String queue = queue("foreign");
    try (Connection c = Rmq.plainConnection()) {
      c.createChannel().queueDeclare(queue, true, false, false, Map.of("x-max-length", 1000));
    }
    Received received = new Received();
    loop(queue, Rmq.config(), RouteOptions.defaults(), m -> {
      received.add(m);
      return Future.succeededFuture();
    });
    join(producer(queue).send(Message.text("hello")));
    await().atMost(Rmq.WAIT).until(() -> received.size() == 1);
  }

  @Test
  void consumerComesBackWhenItsQueueIsDeletedUnderIt() throws Exception {
    String queue = queue("deleted");
    Received received = new Received();
    ConsumerLoop loop = loop(queue, Rmq.config(), RouteOptions.defaults(), m -> {
      received.add(m);
      return Future.succeededFuture();
    });
    try (Connection c = Rmq.plainConnection()) {
      c.createChannel().queueDelete(queue);
    }
    // the broker cancels the consumer; the loop reconnects, declares the queue again and consumes
    await().atMost(Rmq.WAIT).until(() -> {
      try (Connection c = Rmq.plainConnection()) {
        return c.createChannel().consumerCount(queue) == 1;
      } catch (java.io.IOException notThereYet) {
        return false;
      }
    });
    join(producer(queue).send(Message.text("after")));
    await().atMost(Rmq.WAIT).until(() -> received.size() == 1);
    assertThat(loop.isReady()).isTrue();
  }

  @Test
  void acksOfLaterMessagesNeverCoverOneStillInTheHandler() throws Exception {
    String queue = queue("ack-cover");
    Promise<Void> slow = Promise.promise();
    AtomicInteger fast = new AtomicInteger();
    loop(queue, Rmq.config(), RouteOptions.defaults().maxInFlight(50), m -> {
      if (m.body().toString().equals("slow")) {
        return slow.future();
      }
      fast.incrementAndGet();
      return Future.succeededFuture();
    });
    Producer producer = producer(queue);
    join(producer.send(Message.text("slow")));
    for (int i = 0; i < 40; i++) {
      join(producer.send(Message.text("fast " + i)));
    }
    await().atMost(Rmq.WAIT).until(() -> fast.get() == 40);
    // the 40 later messages are acked although an older one is still in the handler, and none of their acks
    // (acks of several messages at once among them) covers it: it alone stays unacknowledged
    await().atMost(Rmq.WAIT).pollInterval(Duration.ofMillis(300))
      .until(() -> Rmq.unacked("/", queue) == 1 && Rmq.ready("/", queue) == 0);

    vertx.runOnContext(v -> slow.complete());
    await().atMost(Rmq.WAIT).pollInterval(Duration.ofMillis(300))
      .until(() -> Rmq.unacked("/", queue) == 0 && Rmq.ready("/", queue) == 0);
  }

  private ConsumerLoop loop(String queue, JsonObject config, RouteOptions options,
                            dev.streamtools.MessageHandler handler) throws Exception {
    ConsumerLoop l = Transports.CONSUMER_LOOPS.get(Transports.RABBITMQ).create(vertx, queue, config);
    loops.add(l);
    join(l.start(handler, options));
    return l;
  }

  private Producer producer(String queue) throws Exception {
    Producer p = Transports.PRODUCERS.get(Transports.RABBITMQ).create(vertx, queue, Rmq.config());
    producers.add(p);
    join(p.init());
    return p;
  }

  private String queue(String base) {
    String q = Rmq.queue(base);
    queues.add(q);
    return q;
  }
}
