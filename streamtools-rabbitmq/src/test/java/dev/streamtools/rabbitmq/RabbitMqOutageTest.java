package dev.streamtools.rabbitmq;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.streamtools.ConsumerLoop;
import dev.streamtools.FailurePolicy;
import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.RouteOptions;
import dev.streamtools.SendException;
import dev.streamtools.Transports;
import dev.streamtools.testkit.Brokers;
import dev.streamtools.testkit.Received;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

import static dev.streamtools.rabbitmq.Rmq.failureOf;
import static dev.streamtools.rabbitmq.Rmq.join;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Lost connections, made by a TCP proxy the test controls (fast and disturbing nobody else on the broker):
 * sends during the gap wait (bounded) or fail clearly, sends in flight fail, and consumers resume.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RabbitMqOutageTest {

  private Vertx vertx;
  private FaultProxy proxy;
  private final List<String> queues = new ArrayList<>();
  private final List<Producer> producers = new ArrayList<>();
  private final List<ConsumerLoop> loops = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    Brokers.requireRabbitMq();
    proxy = FaultProxy.start(vertx, Brokers.rabbitMqHost(), Brokers.rabbitMqPort());
  }

  @AfterEach
  void tearDown() throws Exception {
    proxy.restore();
    for (ConsumerLoop l : loops) {
      join(l.close());
    }
    for (Producer p : producers) {
      join(p.close());
    }
    proxy.close();
    join(vertx.close());
    Rmq.deleteQueues(queues.toArray(new String[0]));
  }

  @Test
  void sendsDuringAnOutageWaitAndGoOutWhenTheConnectionReturns() throws Exception {
    String queue = queue("wait");
    Producer producer = producer(queue, proxied());
    join(producer.send(Message.text("before")));

    cutAndAwaitReconnecting();
    List<Future<Void>> sends = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      sends.add(producer.send(Message.json(new JsonObject().put("n", i))));
    }
    int refused = proxy.refused();
    await().atMost(Rmq.WAIT).until(() -> proxy.refused() >= refused + 2);
    assertThat(sends).as("waiting, neither failed nor confirmed").noneMatch(Future::isComplete);

    proxy.restore();
    join(Future.all(sends));
    assertThat(messageCount(queue)).isEqualTo(51);
  }

  @Test
  void sendFailsAfterItsTimeoutWhileTheBrokerStaysUnreachable() throws Exception {
    String queue = queue("timeout");
    Producer producer = producer(queue, proxied().put(RabbitMqSettings.SEND_TIMEOUT_MS, 1000));
    cutAndAwaitReconnecting();

    long start = System.nanoTime();
    Throwable e = failureOf(producer.send(Message.text("nobody takes me")));
    long tookMs = (System.nanoTime() - start) / 1_000_000;

    assertThat(e).isInstanceOf(SendException.class);
    assertThat(e.getMessage()).contains("not connected to RabbitMQ within 1000 ms").contains("last error").contains(queue);
    assertThat(tookMs).isBetween(900L, 10_000L);
  }

  @Test
  void bytesWaitingForAConnectionAreBounded() throws Exception {
    String queue = queue("bounded");
    Producer producer = producer(queue, proxied().put(RabbitMqSettings.MAX_PENDING_BYTES, 1000));
    cutAndAwaitReconnecting();

    Buffer body = Buffer.buffer(new byte[400]);
    Future<Void> first = producer.send(Message.of(body));
    Future<Void> second = producer.send(Message.of(body));
    Throwable third = failureOf(producer.send(Message.of(body)));
    assertThat(third).isInstanceOf(SendException.class).hasMessageContaining("RMQ_MAX_PENDING_BYTES=1000");

    proxy.restore();
    join(Future.all(first, second));
  }

  @Test
  void aBrokerThatStopsReadingNeverBlocksTheProducersEventLoop() throws Exception {
    String queue = queue("unread");
    Context context = vertx.getOrCreateContext();
    JsonObject config = proxied().put(RabbitMqSettings.CONFIRM_WINDOW, 10_000);
    Producer producer = Rmq.on(context, () -> Future.succeededFuture(
      Transports.PRODUCERS.get(Transports.RABBITMQ).create(vertx, queue, config)));
    producers.add(producer);
    join(producer.init());
    join(producer.send(Message.text("before")));

    // 20 MB while nothing is read: far more than the sockets' buffers, so a publish made on the event loop
    // past the unconfirmed-bytes bound would block it
    join(proxy.stopReading());
    Buffer body = Buffer.buffer(new byte[4096]);
    List<Future<Void>> sends = Rmq.on(context, () -> {
      List<Future<Void>> started = new ArrayList<>();
      for (int i = 0; i < 5000; i++) {
        started.add(producer.send(Message.of(body)));
      }
      return Future.succeededFuture(started);
    });
    awaitATurnOf(context);
    assertThat(sends).as("nothing confirmed while the broker reads nothing").noneMatch(Future::isComplete);

    proxy.readAgain();
    join(Future.all(sends));
    assertThat(messageCount(queue)).isEqualTo(5001);
  }

  // 64: the acks are written on the event loop; 20,000: past the bytes that the socket surely holds, they go
  // to the worker. With the first delivery held, every other ack goes alone.
  @ParameterizedTest(name = "maxInFlight {0}")
  @ValueSource(ints = {64, 20_000})
  void aBrokerThatStopsReadingNeverBlocksTheConsumersEventLoop(int maxInFlight) throws Exception {
    String queue = queue("unread-acks");
    Context context = vertx.getOrCreateContext();
    ConsumerLoop loop = proxiedLoopOn(context, queue);
    Received seen = new Received();
    Promise<Void> first = Promise.promise();
    join(loop.start(m -> {
      seen.add(m);
      return seen.size() == 1 ? first.future() : Future.succeededFuture();
    }, RouteOptions.defaults().maxInFlight(maxInFlight)));

    join(proxy.stopReading());
    int total = maxInFlight + 100;
    Producer producer = producer(queue, Rmq.config());
    join(Future.all(sendAll(producer, total, i -> Message.json(new JsonObject().put("n", i)))));
    await().atMost(Rmq.WAIT).until(() -> seen.size() == maxInFlight);

    awaitATurnOf(context);
    assertThat(seen.size()).as("the broker read none of the acks, so it sent no more than the prefetch")
      .isEqualTo(maxInFlight);

    proxy.readAgain();
    first.complete();
    await().atMost(Rmq.WAIT).until(() -> seen.size() == total);
    awaitEmptyAndAllAcked(queue);
    assertThat(seen.duplicates()).isZero();
  }

  @Test
  void retriesTheBrokerDoesNotReadNeverHoldUpTheConsumersEventLoop() throws Exception {
    String queue = queue("unread-retries");
    Context context = vertx.getOrCreateContext();
    ConsumerLoop loop = proxiedLoopOn(context, queue);
    Set<String> failedOnce = ConcurrentHashMap.newKeySet();
    Received handled = new Received();
    Duration backoff = Duration.ofMillis(1);
    join(loop.start(m -> {
      if (m.body().length() > 1000 && failedOnce.add(m.id())) {
        return Future.failedFuture(new IllegalStateException("first attempt of a large message"));
      }
      handled.add(m);
      return Future.succeededFuture();
    }, RouteOptions.defaults().failurePolicy(FailurePolicy.defaults().backoff(backoff, 1, backoff))));

    // their retries, 20 MB republished on the loop's connection while the broker reads nothing: the write
    // waits for the socket, and an ack written on the event loop would wait behind it
    join(proxy.stopReading());
    Producer producer = producer(queue, Rmq.config());
    Buffer large = Buffer.buffer(new byte[2 * 1024 * 1024]);
    join(Future.all(sendAll(producer, 10, i -> Message.of(large))));
    await().atMost(Rmq.WAIT).until(() -> failedOnce.size() == 10);
    join(Future.all(sendAll(producer, 20, i -> Message.json(new JsonObject().put("n", i)))));
    await().atMost(Rmq.WAIT).until(() -> handled.size() == 20);
    awaitATurnOf(context);

    proxy.readAgain();
    await().atMost(Rmq.WAIT).until(() -> handled.size() == 30);
    awaitEmptyAndAllAcked(queue);
    assertThat(handled.duplicates()).isZero();
  }

  @Test
  void sendsInFlightFailWhenTheConnectionDropsBeforeTheirConfirm() throws Exception {
    String queue = queue("in-flight");
    Producer producer = producer(queue, proxied());
    proxy.freeze();
    List<Future<Void>> sends = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      sends.add(producer.send(Message.json(new JsonObject().put("n", i))));
    }
    // stored by the broker, but its confirms are held back by the proxy
    await().atMost(Rmq.WAIT).until(() -> messageCount(queue) == 10);
    assertThat(sends).noneMatch(Future::isComplete);

    proxy.cut();
    for (Future<Void> f : sends) {
      assertThat(failureOf(f)).isInstanceOf(SendException.class)
        .hasMessageContaining("closed before the broker confirmed it");
    }
    proxy.restore();
    join(producer.send(Message.text("after reconnect")));
    assertThat(messageCount(queue)).isEqualTo(11);
  }

  @Test
  void consumerResumesAndUnackedMessagesComeBackAfterALostConnection() throws Exception {
    String queue = queue("resume");
    Received seen = new Received();
    Set<String> handled = ConcurrentHashMap.newKeySet();
    Set<String> holding = ConcurrentHashMap.newKeySet();
    List<Promise<Void>> held = new java.util.concurrent.CopyOnWriteArrayList<>();
    ConsumerLoop loop = Transports.CONSUMER_LOOPS.get(Transports.RABBITMQ).create(vertx, queue, proxied());
    loops.add(loop);
    // the first delivery of the first five messages is held unfinished: the connection drops under them
    join(loop.start(m -> {
      seen.add(m);
      int n = m.json().getInteger("n");
      if (n < 5 && holding.add(m.id())) {
        Promise<Void> p = Promise.promise();
        held.add(p);
        return p.future();
      }
      handled.add(m.id());
      return Future.succeededFuture();
    }, RouteOptions.defaults().maxInFlight(20)));
    Producer producer = producer(queue, Rmq.config());
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      Message m = Message.json(new JsonObject().put("n", i));
      ids.add(m.id());
      join(producer.send(m));
    }
    await().atMost(Rmq.WAIT).until(() -> holding.size() == 5 && handled.size() == 15);
    // the acks of the 15 have reached the broker: only the 5 held ones are outstanding
    await().atMost(Rmq.WAIT).pollInterval(Duration.ofMillis(300))
      .until(() -> Rmq.unacked("/", queue) == 5);
    assertThat(loop.isReady()).isTrue();

    proxy.cut();
    await().atMost(Rmq.WAIT).until(() -> !loop.isReady());
    proxy.restore();
    for (int i = 20; i < 40; i++) {
      Message m = Message.json(new JsonObject().put("n", i));
      ids.add(m.id());
      join(producer.send(m));
    }

    await().atMost(Rmq.WAIT).until(() -> handled.containsAll(ids));
    assertThat(loop.isReady()).isTrue();
    assertThat(holding).as("redelivered after the reconnect, then handled").isSubsetOf(handled);
    assertThat(seen.duplicates()).isEqualTo(5);
    // the first deliveries finish late: their acks cannot go on the new channel and are not attempted
    held.forEach(Promise::complete);
    await().atMost(Rmq.WAIT).pollInterval(Duration.ofMillis(300)).until(() -> Rmq.unacked("/", queue) == 0);
    assertThat(seen.size()).isEqualTo(45);
  }

  // the client notices the cut when it tries to reconnect: until then a send goes into the dying socket
  private void cutAndAwaitReconnecting() {
    int before = proxy.refused();
    proxy.cut();
    await().atMost(Rmq.WAIT).until(() -> proxy.refused() > before);
  }

  /** Waits 500 ms, then for a task on the context: it runs only while nothing blocks the context's thread. */
  private void awaitATurnOf(Context context) throws Exception {
    Promise<Void> turn = Promise.promise();
    vertx.setTimer(500, id -> context.runOnContext(v -> turn.complete()));
    join(turn.future());
  }

  private ConsumerLoop proxiedLoopOn(Context context, String queue) throws Exception {
    ConsumerLoop loop = Rmq.on(context, () -> Future.succeededFuture(
      Transports.CONSUMER_LOOPS.get(Transports.RABBITMQ).create(vertx, queue, proxied())));
    loops.add(loop);
    return loop;
  }

  private static List<Future<Void>> sendAll(Producer producer, int count, IntFunction<Message> message) {
    List<Future<Void>> sends = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      sends.add(producer.send(message.apply(i)));
    }
    return sends;
  }

  private void awaitEmptyAndAllAcked(String queue) {
    await().atMost(Rmq.WAIT).pollInterval(Duration.ofMillis(300))
      .until(() -> Rmq.unacked("/", queue) == 0 && messageCount(queue) == 0);
  }

  private JsonObject proxied() {
    return Rmq.config().put(RabbitMqSettings.PORT, proxy.port());
  }

  private long messageCount(String queue) throws Exception {
    try (Connection c = Rmq.plainConnection()) {
      Channel ch = c.createChannel();
      return ch.messageCount(queue);
    }
  }

  private Producer producer(String queue, JsonObject config) throws Exception {
    Producer p = Transports.PRODUCERS.get(Transports.RABBITMQ).create(vertx, queue, config);
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
