package dev.streamtools.testkit;

import dev.streamtools.ConsumerFactory;
import dev.streamtools.ConsumerLoop;
import dev.streamtools.FailurePolicy;
import dev.streamtools.Message;
import dev.streamtools.MessageHandler;
import dev.streamtools.MessageHeaders;
import dev.streamtools.Producer;
import dev.streamtools.Route;
import dev.streamtools.RouteOptions;
import dev.streamtools.SendException;
import dev.streamtools.Transports;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

/**
 * The behaviour every transport promises, run against its real broker. A transport's test extends this
 * class and overrides {@link #transportUnderTest()}; {@link Features} switch off what a transport does
 * not promise (HTTP keeps nothing, so it has no dead-letter queue to read, and reports failures to the
 * sender instead).
 *
 * <p>Each test uses fresh queue names, its own Vert.x instance, and closes every loop and producer it
 * made.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
public abstract class TransportConformanceSuite {

  /** How long a test waits for something that should happen. */
  protected static final Duration WAIT = Duration.ofSeconds(60);

  private static final FailurePolicy FAST_RETRIES = FailurePolicy.defaults()
    .maxAttempts(3)
    .backoff(Duration.ofMillis(20), 2.0, Duration.ofMillis(100));

  /** @return the transport to test, its features and the config every producer and loop gets */
  protected abstract TransportUnderTest transportUnderTest();

  /**
   * Restarts the transport's broker and returns once it accepts connections again. Called only when
   * {@link Features#restartableBroker()} is set; a transport with that flag overrides it.
   *
   * @throws Exception if the broker could not be restarted (the test then fails)
   */
  protected void restartBroker() throws Exception {
    throw new UnsupportedOperationException(transport.name() + " sets restartableBroker but does not override "
      + "restartBroker()");
  }

  /** @return how many messages the volume tests send; transports may raise it */
  protected int messageCount() {
    return 300;
  }

  protected Vertx vertx;
  protected TransportUnderTest transport;
  protected Features features;
  private final List<ConsumerLoop> loops = new ArrayList<>();
  private final List<Producer> producers = new ArrayList<>();

  /** A typed route's target. */
  public record Sample(String name, int n) {
  }

  @BeforeEach
  void startVertx() {
    transport = transportUnderTest();
    features = transport.features();
    vertx = Vertx.vertx();
  }

  @AfterEach
  void closeEverything() throws Exception {
    for (ConsumerLoop loop : loops) {
      awaitQuietly(loop.close());
    }
    for (Producer producer : producers) {
      awaitQuietly(producer.close());
    }
    awaitQuietly(vertx.close());
  }

  // ---------------------------------------------------------------------------------------------
  // the tests

  @Test
  void everySentMessageIsConsumedOnceWithPayloadAndHeadersIntact() throws Exception {
    String queue = queue("all");
    Received received = new Received();
    startLoop(queue, RouteOptions.defaults().maxInFlight(16), recording(received));
    Producer producer = producer(queue);

    int n = messageCount();
    Map<String, Message> sent = new ConcurrentHashMap<>();
    List<Future<Void>> sends = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Message m = Message.json(new JsonObject().put("n", i).put("text", "payload " + i + " ünïcödé"))
        .withHeader("x-test-header", "value-" + i)
        .withCorrelationId("corr-" + i)
        .withKey("key-" + (i % 7));
      sent.put(m.id(), m);
      sends.add(producer.send(m));
    }
    join(Future.all(sends));

    await().atMost(WAIT).until(() -> received.ids().size() >= n);
    assertThat(received.ids()).containsExactlyInAnyOrderElementsOf(sent.keySet());
    assertThat(received.duplicates()).as("duplicates in a clean run").isZero();
    for (Message got : received.messages()) {
      Message expected = sent.get(got.id());
      assertThat(got.body()).as("body of %s", got.id()).isEqualTo(expected.body());
      assertThat(got.json()).isEqualTo(expected.json());
      assertThat(got.header("x-test-header")).isEqualTo(expected.header("x-test-header"));
      assertThat(got.correlationId()).isEqualTo(expected.correlationId());
      assertThat(got.key()).isEqualTo(expected.key());
      assertThat(got.timestamp()).as("timestamp of %s", got.id()).isEqualTo(expected.timestamp());
      assertThat(got.contentType()).startsWith(Message.APPLICATION_JSON);
      assertThat(got.queue()).isEqualTo(queue);
    }
  }

  @Test
  void orderIsKeptWithOneInFlight() throws Exception {
    Assumptions.assumeTrue(features.orderedPerQueue(), "transport does not promise order");
    String queue = queue("order");
    Received received = new Received();
    startLoop(queue, RouteOptions.defaults().maxInFlight(1), recording(received));
    Producer producer = producer(queue);

    List<String> sentIds = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      Message m = Message.json(new JsonObject().put("n", i)).withKey("one-key");
      sentIds.add(m.id());
      join(producer.send(m));
    }
    await().atMost(WAIT).until(() -> received.size() >= sentIds.size());
    assertThat(received.messages().stream().map(Message::id)).containsExactlyElementsOf(sentIds);
  }

  @Test
  void failingHandlerIsRetriedThenDeadLetteredWithTheReason() throws Exception {
    String queue = queue("fail");
    Received deadLetters = deadLetterLoop(queue);
    Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
    startLoop(queue, RouteOptions.defaults().failurePolicy(FAST_RETRIES), m -> {
      attempts.computeIfAbsent(m.id(), k -> new AtomicInteger()).incrementAndGet();
      return Future.failedFuture(new IllegalStateException("boom " + m.json().getInteger("n")));
    });
    Producer producer = producer(queue);
    Message message = Message.json(new JsonObject().put("n", 7)).withHeader("x-test-header", "kept");

    Future<Void> send = producer.send(message);
    if (features.synchronousOutcome()) {
      SendException e = awaitFailure(send, SendException.class);
      assertThat(e.getMessage()).contains(message.id());
      assertThat(attempts.get(message.id())).hasValue(3);
      return;
    }
    join(send);
    await().atMost(WAIT).until(() -> deadLetters.size() >= 1);
    Message dead = deadLetters.messages().get(0);
    assertThat(dead.id()).isEqualTo(message.id());
    assertThat(dead.body()).isEqualTo(message.body());
    assertThat(dead.header("x-test-header")).isEqualTo("kept");
    assertThat(dead.header(MessageHeaders.DEAD_LETTER_REASON)).contains("boom 7");
    assertThat(dead.header(MessageHeaders.DEAD_LETTER_ATTEMPTS)).isEqualTo("3");
    assertThat(dead.header(MessageHeaders.DEAD_LETTER_QUEUE)).isEqualTo(queue);
    assertThat(dead.header(MessageHeaders.DEAD_LETTER_EXCEPTION)).isEqualTo(IllegalStateException.class.getName());
    assertThat(attempts.get(message.id())).hasValue(3);
  }

  @Test
  void transientFailureIsRetriedAndThenAcked() throws Exception {
    String queue = queue("transient");
    Received deadLetters = deadLetterLoop(queue);
    Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
    Received succeeded = new Received();
    startLoop(queue, RouteOptions.defaults().failurePolicy(FAST_RETRIES), m -> {
      if (attempts.computeIfAbsent(m.id(), k -> new AtomicInteger()).incrementAndGet() < 3) {
        throw new IllegalStateException("not yet");
      }
      succeeded.add(m);
      return Future.succeededFuture();
    });
    Producer producer = producer(queue);

    List<Future<Void>> sends = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      sends.add(producer.send(Message.json(new JsonObject().put("n", i))));
    }
    join(Future.all(sends));
    await().atMost(WAIT).until(() -> succeeded.size() >= 5);
    assertThat(succeeded.duplicates()).isZero();
    assertThat(attempts.values()).allSatisfy(a -> assertThat(a).hasValue(3));
    assertThat(deadLetters.size()).isZero();
  }

  @Test
  void handlerThatThrowsOrReturnsNullDoesNotStopTheLoop() throws Exception {
    String queue = queue("poison");
    Received deadLetters = deadLetterLoop(queue);
    Received good = new Received();
    startLoop(queue, RouteOptions.defaults().failurePolicy(FAST_RETRIES.maxAttempts(1)), m -> {
      String kind = m.json().getString("kind");
      if ("throw".equals(kind)) {
        throw new IllegalArgumentException("thrown by handler");
      }
      if ("null".equals(kind)) {
        return null;
      }
      good.add(m);
      return Future.succeededFuture();
    });
    Producer producer = producer(queue);

    List<Future<Void>> goodSends = new ArrayList<>();
    List<Future<Void>> poisonSends = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      if (i == 3) {
        poisonSends.add(producer.send(Message.json(new JsonObject().put("kind", "throw"))));
      }
      if (i == 11) {
        poisonSends.add(producer.send(Message.json(new JsonObject().put("kind", "null"))));
      }
      goodSends.add(producer.send(Message.json(new JsonObject().put("kind", "good").put("n", i))));
    }
    join(Future.all(goodSends));
    await().atMost(WAIT).until(() -> good.size() >= 20);
    if (features.synchronousOutcome()) {
      for (Future<Void> poison : poisonSends) {
        awaitFailure(poison, SendException.class);
      }
    } else {
      join(Future.all(poisonSends));
      await().atMost(WAIT).until(() -> deadLetters.size() >= 2);
      assertThat(deadLetters.messages()).extracting(m -> m.header(MessageHeaders.DEAD_LETTER_REASON))
        .anySatisfy(r -> assertThat(r).contains("thrown by handler"))
        .anySatisfy(r -> assertThat(r).contains("null"));
    }
  }

  @Test
  void handlerTimeoutCountsAsAFailure() throws Exception {
    String queue = queue("timeout");
    Received deadLetters = deadLetterLoop(queue);
    AtomicInteger calls = new AtomicInteger();
    FailurePolicy policy = FAST_RETRIES.maxAttempts(2).handlerTimeout(Duration.ofMillis(200));
    startLoop(queue, RouteOptions.defaults().failurePolicy(policy), m -> {
      calls.incrementAndGet();
      return Promise.<Void>promise().future();
    });
    Producer producer = producer(queue);

    Future<Void> send = producer.send(Message.json(new JsonObject().put("n", 1)));
    if (features.synchronousOutcome()) {
      awaitFailure(send, SendException.class);
    } else {
      join(send);
      await().atMost(WAIT).until(() -> deadLetters.size() >= 1);
      assertThat(deadLetters.messages().get(0).header(MessageHeaders.DEAD_LETTER_REASON))
        .contains("did not complete within 200 ms");
    }
    assertThat(calls).hasValue(2);
  }

  @Test
  void undecodableMessageIsDeadLetteredWithoutReachingTheHandler() throws Exception {
    String queue = queue("undecodable");
    Received deadLetters = deadLetterLoop(queue);
    List<Sample> handled = new java.util.concurrent.CopyOnWriteArrayList<>();
    ConsumerFactory factory = new ConsumerFactory(transport.name(), 0);
    factory.route(queue, Sample.class, RouteOptions.defaults().failurePolicy(FAST_RETRIES), sample -> {
      handled.add(sample);
      return Future.succeededFuture();
    });
    startLoop(factory.handlers().get(queue));
    Producer producer = producer(queue);

    Message notJson = Message.text("{this is not json");
    Message wrongType = Message.json(new JsonObject().put("name", "x").put("n", "not a number"));
    Message binary = Message.of(io.vertx.core.buffer.Buffer.buffer(new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1}));
    Message good = Message.json(new JsonObject().put("name", "good").put("n", 1));
    List<Future<Void>> bad = List.of(producer.send(notJson), producer.send(wrongType), producer.send(binary));
    join(producer.send(good));

    await().atMost(WAIT).until(() -> handled.size() >= 1);
    if (features.synchronousOutcome()) {
      for (Future<Void> f : bad) {
        assertThat(awaitFailure(f, SendException.class).getMessage()).contains("400");
      }
    } else {
      join(Future.all(bad));
      await().atMost(WAIT).until(() -> deadLetters.size() >= 3);
      assertThat(deadLetters.ids()).containsExactlyInAnyOrder(notJson.id(), wrongType.id(), binary.id());
      assertThat(deadLetters.messages()).allSatisfy(d -> {
        assertThat(d.header(MessageHeaders.DEAD_LETTER_REASON)).startsWith("undecodable");
        assertThat(d.header(MessageHeaders.DEAD_LETTER_ATTEMPTS)).isEqualTo("1");
      });
    }
    assertThat(handled).containsExactly(new Sample("good", 1));
  }

  @Test
  void inFlightBoundIsRespectedUnderASlowHandler() throws Exception {
    String queue = queue("bound");
    AtomicInteger inHandler = new AtomicInteger();
    AtomicInteger maxSeen = new AtomicInteger();
    Received done = new Received();
    startLoop(queue, RouteOptions.defaults().maxInFlight(4), m -> {
      maxSeen.accumulateAndGet(inHandler.incrementAndGet(), Math::max);
      Promise<Void> p = Promise.promise();
      vertx.setTimer(30, id -> {
        inHandler.decrementAndGet();
        done.add(m);
        p.complete();
      });
      return p.future();
    });
    Producer producer = producer(queue);

    List<Future<Void>> sends = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      sends.add(producer.send(Message.json(new JsonObject().put("n", i)).withKey("k" + i)));
    }
    join(Future.all(sends));
    await().atMost(WAIT).until(() -> done.ids().size() >= 40);
    assertThat(maxSeen.get()).isBetween(1, 4);
  }

  @Test
  void closeWhileBusyLosesNothingThatWasSent() throws Exception {
    String queue = queue("close");
    Received finished = new Received();
    MessageHandler slow = m -> {
      Promise<Void> p = Promise.promise();
      vertx.setTimer(100, id -> {
        finished.add(m);
        p.complete();
      });
      return p.future();
    };
    ConsumerLoop first = startLoop(queue, RouteOptions.defaults().maxInFlight(4), slow);
    Producer producer = producer(queue);

    Set<String> sentIds = ConcurrentHashMap.newKeySet();
    List<Future<Void>> sends = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      Message m = Message.json(new JsonObject().put("n", i)).withKey("k" + i);
      sends.add(producer.send(m).onSuccess(v -> sentIds.add(m.id())));
    }
    await().atMost(WAIT).until(() -> finished.size() >= 2);
    join(first.close());
    int finishedByFirst = finished.ids().size();
    assertThat(first.isReady()).isFalse();
    awaitQuietly(Future.join(sends));

    if (features.persistent()) {
      await().atMost(WAIT).until(() -> sends.stream().allMatch(Future::isComplete));
      startLoop(queue, RouteOptions.defaults().maxInFlight(4), slow);
      await().atMost(WAIT).until(() -> finished.ids().containsAll(sentIds));
      assertThat(finished.duplicates()).as("redelivered after close").isLessThanOrEqualTo(4);
    } else {
      assertThat(finished.ids()).as("every accepted send was handled before close completed")
        .containsAll(sentIds);
    }
    assertThat(finishedByFirst).isGreaterThanOrEqualTo(2);
    assertThat(sentIds).isNotEmpty();
  }

  @Test
  void queuesOnOneVertxAreIsolated() throws Exception {
    List<String> queues = List.of(queue("iso-a"), queue("iso-b"), queue("iso-c"));
    Map<String, Received> byQueue = new ConcurrentHashMap<>();
    for (String q : queues) {
      Received r = new Received();
      byQueue.put(q, r);
      startLoop(q, RouteOptions.defaults(), recording(r));
    }
    List<Future<Void>> sends = new ArrayList<>();
    for (String q : queues) {
      Producer producer = producer(q);
      for (int i = 0; i < 20; i++) {
        sends.add(producer.send(Message.json(new JsonObject().put("queue", q).put("n", i))));
      }
    }
    join(Future.all(sends));
    for (String q : queues) {
      Received r = byQueue.get(q);
      await().atMost(WAIT).until(() -> r.size() >= 20);
      assertThat(r.messages()).allSatisfy(m -> {
        assertThat(m.json().getString("queue")).isEqualTo(q);
        assertThat(m.queue()).isEqualTo(q);
      });
    }
    assertThat(byQueue.values().stream().mapToInt(Received::size).sum()).isEqualTo(60);
  }

  @Test
  void messagesSentBeforeAConsumerStartsAreDelivered() throws Exception {
    Assumptions.assumeTrue(features.persistent(), "transport keeps nothing without a consumer");
    String queue = queue("early");
    ConsumerLoop loop = Transports.CONSUMER_LOOPS.get(transport.name()).create(vertx, queue, transport.config().copy());
    loops.add(loop);
    join(loop.init());
    Producer producer = producer(queue);
    Set<String> sent = new HashSet<>();
    for (int i = 0; i < 10; i++) {
      Message m = Message.json(new JsonObject().put("n", i));
      sent.add(m.id());
      join(producer.send(m));
    }
    Received received = new Received();
    join(loop.start(recording(received), RouteOptions.defaults()));
    await().atMost(WAIT).until(() -> received.ids().containsAll(sent));
  }

  @Test
  void competingConsumersShareTheQueue() throws Exception {
    Assumptions.assumeTrue(features.competingConsumers(), "transport has no competing consumers");
    String queue = queue("compete");
    Received a = new Received();
    Received b = new Received();
    ConsumerLoop loopA = startLoop(queue, RouteOptions.defaults().maxInFlight(8), slowRecording(a));
    ConsumerLoop loopB = startLoop(queue, RouteOptions.defaults().maxInFlight(8), slowRecording(b));
    await().atMost(WAIT).until(() -> loopA.isReady() && loopB.isReady());
    Producer producer = producer(queue);

    Set<String> sent = new HashSet<>();
    List<Future<Void>> sends = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      Message m = Message.json(new JsonObject().put("n", i)).withKey("k" + i);
      sent.add(m.id());
      sends.add(producer.send(m));
    }
    join(Future.all(sends));
    await().atMost(WAIT).until(() -> a.ids().size() + b.ids().size() >= 200);
    Set<String> union = new HashSet<>(a.ids());
    union.addAll(b.ids());
    assertThat(union).isEqualTo(sent);
    assertThat(a.size()).as("consumer A's share").isPositive();
    assertThat(b.size()).as("consumer B's share").isPositive();
  }

  @Test
  void aBrokerRestartLosesNoConfirmedMessageAndBothSidesResume() throws Exception {
    Assumptions.assumeTrue(features.restartableBroker(), "transport has no broker the test can restart");
    String queue = queue("restart");
    Received received = new Received();
    ConsumerLoop loop = startLoop(queue, RouteOptions.defaults().maxInFlight(16), recording(received));
    Producer producer = producer(queue);
    Set<String> sent = new HashSet<>();
    sendAll(producer, 0, 100, sent);
    await().atMost(WAIT).until(() -> received.ids().containsAll(sent));

    restartBroker();
    // neither the loop nor the producer is recreated: both must find the restarted broker by themselves
    await().atMost(WAIT).until(loop::isReady);
    sendAll(producer, 100, 200, sent);

    await().atMost(WAIT).until(() -> received.ids().containsAll(sent));
    assertThat(received.ids()).containsExactlyInAnyOrderElementsOf(sent);
  }

  private static void sendAll(Producer producer, int from, int to, Set<String> sent) throws Exception {
    List<Future<Void>> sends = new ArrayList<>();
    for (int i = from; i < to; i++) {
      Message m = Message.json(new JsonObject().put("n", i)).withKey("k" + (i % 10));
      sent.add(m.id());
      sends.add(producer.send(m));
    }
    join(Future.all(sends));
  }

  @Test
  void sendAfterCloseFailsAndCloseIsIdempotent() throws Exception {
    String queue = queue("closed");
    ConsumerLoop loop = startLoop(queue, RouteOptions.defaults(), m -> Future.succeededFuture());
    Producer producer = producer(queue);
    join(producer.send(Message.text("before close")));

    join(producer.close());
    join(producer.close());
    SendException e = awaitFailure(producer.send(Message.text("after close")), SendException.class);
    assertThat(e.transport()).isEqualTo(transport.name());
    assertThat(e.queue()).isEqualTo(queue);

    join(loop.close());
    join(loop.close());
    assertThat(loop.isReady()).isFalse();
  }

  // ---------------------------------------------------------------------------------------------
  // helpers for subclasses

  /**
   * @param base a readable part
   * @return a queue name no other test uses
   */
  protected String queue(String base) {
    return "st-" + base + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /**
   * @param queue the queue
   * @return an initialised producer, closed after the test
   */
  protected Producer producer(String queue) throws Exception {
    Producer producer = Transports.PRODUCERS.get(transport.name()).create(vertx, queue, transport.config().copy());
    producers.add(producer);
    join(producer.init());
    return producer;
  }

  /**
   * @param queue the queue
   * @param options route options
   * @param handler the handler
   * @return a started loop, closed after the test
   */
  protected ConsumerLoop startLoop(String queue, RouteOptions options, MessageHandler handler) throws Exception {
    return startLoop(new Route(queue, handler, options));
  }

  /**
   * @param route the route to consume
   * @return a started loop, closed after the test
   */
  protected ConsumerLoop startLoop(Route route) throws Exception {
    ConsumerLoop loop = Transports.CONSUMER_LOOPS.get(transport.name())
      .create(vertx, route.queue(), transport.config().copy());
    loops.add(loop);
    join(loop.start(route));
    return loop;
  }

  /**
   * Consumes {@code <queue>.dlq} when the transport has a dead-letter queue to read.
   *
   * @param queue the queue whose dead letters to record
   * @return what arrives there; stays empty for transports without one
   */
  protected Received deadLetterLoop(String queue) throws Exception {
    Received received = new Received();
    if (features.deadLetterQueue()) {
      startLoop(FailurePolicy.defaults().deadLetterQueueFor(queue), RouteOptions.defaults(), recording(received));
    }
    return received;
  }

  /**
   * @param received where to record
   * @return a handler that records every message and succeeds
   */
  protected static MessageHandler recording(Received received) {
    return m -> {
      received.add(m);
      return Future.succeededFuture();
    };
  }

  private MessageHandler slowRecording(Received received) {
    return m -> {
      Promise<Void> p = Promise.promise();
      vertx.setTimer(5, id -> {
        received.add(m);
        p.complete();
      });
      return p.future();
    };
  }

  /**
   * @param future a future
   * @param <T> its type
   * @return its value, waiting up to {@link #WAIT}
   */
  protected static <T> T join(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception) {
        throw (Exception) e.getCause();
      }
      throw e;
    }
  }

  /**
   * @param future a future expected to fail
   * @param type the expected failure type
   * @param <E> the failure type
   * @return the failure
   */
  protected static <E extends Throwable> E awaitFailure(Future<?> future, Class<E> type) throws Exception {
    try {
      future.toCompletionStage().toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(type);
      return type.cast(e.getCause());
    }
    return fail("expected a failure of type " + type.getSimpleName() + " but the future succeeded");
  }

  private static void awaitQuietly(Future<?> future) throws InterruptedException {
    try {
      future.toCompletionStage().toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException ignored) {
      // cleanup and settling: the test's assertions decide, not this
    }
  }

  /** @return ids as a sorted, readable string, for assertion messages */
  protected static String describe(Set<String> ids) {
    return ids.stream().sorted().collect(Collectors.joining(", "));
  }
}
