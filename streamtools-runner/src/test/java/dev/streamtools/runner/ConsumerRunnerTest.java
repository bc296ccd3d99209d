package dev.streamtools.runner;

import dev.streamtools.ConfigException;
import dev.streamtools.ConsumerFactory;
import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.RouteOptions;
import dev.streamtools.StreamtoolsException;
import dev.streamtools.Transports;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** ConsumerRunner on real sockets: health endpoints, graceful stop, validation. */
@Timeout(60)
class ConsumerRunnerTest {

  private static final Duration WAIT = Duration.ofSeconds(20);

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private Vertx vertx;
  private final List<ConsumerRunner> runners = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (ConsumerRunner r : runners) {
      join(r.stop());
    }
    join(vertx.close());
  }

  @ParameterizedTest
  @ValueSource(strings = {Transports.MEMORY, Transports.HTTP})
  void liveAndReadyAnswer200OnceStarted(String transport) throws Exception {
    String queue = unique("health");
    ConsumerFactory consumers = new ConsumerFactory(transport, 0).route(queue, m -> Future.succeededFuture());
    ConsumerRunner runner = track(ConsumerRunner.of(vertx, consumers));

    assertThatThrownBy(runner::actualPort).isInstanceOf(IllegalStateException.class);
    join(runner.start());

    HttpResponse<String> live = get(runner.actualPort(), ConsumerRunner.LIVENESS_PATH);
    assertThat(live.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(live.body()).getString("status")).isEqualTo("UP");

    HttpResponse<String> ready = get(runner.actualPort(), ConsumerRunner.READINESS_PATH);
    assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
    JsonObject body = new JsonObject(ready.body());
    assertThat(body.getString("status")).isEqualTo("UP");
    assertThat(body.getJsonArray("notReady")).isEmpty();
    assertThat(body.getJsonObject("queues").getJsonObject(queue).getBoolean("ready")).isTrue();
    assertThat(body.getJsonObject("queues").getJsonObject(queue).getString("transport")).isEqualTo(transport);
    assertThat(runner.isReady()).isTrue();
  }

  /**
   * A message in a slow handler when stop() is called: readiness drops to 503 at once, naming the
   * queue; stop() waits for the handler; the producer's send succeeds (HTTP: the 2xx arrives before
   * stop completes); then the port is released.
   */
  @ParameterizedTest
  @ValueSource(strings = {Transports.MEMORY, Transports.HTTP})
  void stopDrainsInFlightMessagesAndReadinessSays503MeanWhile(String transport) throws Exception {
    String queue = unique("drain");
    Promise<Void> release = Promise.promise();
    List<String> events = new CopyOnWriteArrayList<>();
    AtomicReference<Message> handled = new AtomicReference<>();
    ConsumerFactory consumers = new ConsumerFactory(transport, 0).route(queue, msg -> {
      events.add("handler entered");
      return release.future().onSuccess(v -> {
        handled.set(msg);
        events.add("handler done");
      });
    });
    ConsumerRunner runner = track(ConsumerRunner.of(vertx, consumers));
    join(runner.start());
    int port = runner.actualPort();

    Producer producer = producer(transport, queue, port);
    Message message = Message.json(new JsonObject().put("n", 1));
    Future<Void> send = producer.send(message).onComplete(ar -> events.add("send " + (ar.succeeded() ? "ok" : "failed")));
    await().atMost(WAIT).until(() -> events.contains("handler entered"));

    Future<Void> stop = runner.stop().onComplete(ar -> events.add("stop done"));
    await().atMost(WAIT).until(() -> get(port, ConsumerRunner.READINESS_PATH).statusCode() == 503);
    JsonObject notReady = new JsonObject(get(port, ConsumerRunner.READINESS_PATH).body());
    assertThat(notReady.getString("status")).isEqualTo("DOWN");
    assertThat(notReady.getString("state")).isEqualTo("stopping");
    assertThat(notReady.getJsonArray("notReady").encode()).isEqualTo(new io.vertx.core.json.JsonArray().add(queue).encode());
    assertThat(get(port, ConsumerRunner.LIVENESS_PATH).statusCode()).isEqualTo(200);
    assertThat(runner.isReady()).isFalse();
    assertThat(stop.isComplete()).as("stop() must wait for the message in the handler").isFalse();

    release.complete();
    join(stop);
    // HTTP is synchronous: the send succeeds only on the 2xx written after the handler, so a server
    // closed under the request would fail it. (When the client gets to process that response, relative
    // to stop()'s completion, is a race between two event loops, not something to assert.)
    join(send);
    // join's own listener can run on this thread as soon as the Future holds its value, before the thread that
    // completed it has run the listeners registered earlier: wait for the one that records the outcome
    await().atMost(WAIT).until(() -> events.contains("send ok"));
    assertThat(handled.get().id()).isEqualTo(message.id());
    assertThat(events).containsSubsequence("handler entered", "handler done", "stop done");
    assertPortReleased(port);
    join(producer.close());
  }

  @Test
  void drainIsBoundedByTheRoutesDrainTimeout() throws Exception {
    String queue = unique("stuck");
    Duration drain = Duration.ofMillis(300);
    List<String> events = new CopyOnWriteArrayList<>();
    ConsumerFactory consumers = new ConsumerFactory(Transports.MEMORY, 0)
      .route(queue, RouteOptions.DEFAULTS.drainTimeout(drain), msg -> {
        events.add("handler entered");
        return Promise.<Void>promise().future(); // never completes
      });
    ConsumerRunner runner = track(ConsumerRunner.of(vertx, consumers));
    join(runner.start());
    Producer producer = producer(Transports.MEMORY, queue, runner.actualPort());
    join(producer.send(Message.text("stuck")));
    await().atMost(WAIT).until(() -> events.contains("handler entered"));

    long t0 = System.nanoTime();
    runner.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertThat(tookMs).as("stop waited for the drain timeout, then gave up on the stuck message")
      .isGreaterThanOrEqualTo(drain.toMillis() - 50);
  }

  @Test
  void stopIsIdempotentAndARunnerStartsOnce() throws Exception {
    ConsumerFactory consumers = new ConsumerFactory(Transports.MEMORY, 0).route(unique("idem"), m -> Future.succeededFuture());
    ConsumerRunner neverStarted = ConsumerRunner.of(vertx, consumers);
    join(neverStarted.stop());
    assertThatThrownBy(() -> join(neverStarted.start())).hasRootCauseInstanceOf(IllegalStateException.class)
      .hasMessageContaining("starts once");

    ConsumerRunner runner = track(ConsumerRunner.of(vertx, consumers));
    Future<Void> started = runner.start();
    assertThat(runner.start()).isSameAs(started);
    join(started);
    Future<Void> first = runner.stop();
    Future<Void> second = runner.stop();
    assertThat(second).isSameAs(first);
    join(first);
    assertThat(runner.stop().succeeded()).isTrue();
    assertThat(runner.isReady()).isFalse();
    assertThat(runner.start()).isSameAs(started); // start stays the one that happened
  }

  @Test
  void theRunnerClosesOnlyTheVertxItCreated() throws Exception {
    ConsumerFactory consumers = new ConsumerFactory(Transports.MEMORY, 0).route(unique("own"), m -> Future.succeededFuture());
    ConsumerRunner embedded = ConsumerRunner.of(vertx, consumers);
    join(embedded.start());
    join(embedded.stop());
    // the given Vert.x instance is still usable after the runner stopped
    assertThat(vertx.deploymentIDs()).isEmpty();
    assertThat(join(vertx.executeBlocking(() -> "alive"))).isEqualTo("alive");

    ConsumerRunner owning = ConsumerRunner.of(consumers);
    join(owning.start());
    int port = owning.actualPort();
    assertThat(get(port, ConsumerRunner.READINESS_PATH).statusCode()).isEqualTo(200);
    join(owning.stop());
    assertPortReleased(port);
  }

  @Test
  void runBlocksUntilStopAndRefusesVertxThreads() throws Exception {
    ConsumerFactory consumers = new ConsumerFactory(Transports.MEMORY, 0).route(unique("run"), m -> Future.succeededFuture());
    ConsumerRunner runner = track(ConsumerRunner.of(vertx, consumers));
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread main = new Thread(() -> {
      try {
        runner.run();
      } catch (Throwable e) {
        failure.set(e);
      }
    }, "test-main");
    main.start();
    await().atMost(WAIT).until(runner::isReady);
    assertThat(main.isAlive()).isTrue();
    join(runner.stop());
    main.join(TimeUnit.SECONDS.toMillis(20));
    assertThat(main.isAlive()).as("run() returned after stop()").isFalse();
    assertThat(failure.get()).isNull();

    ConsumerRunner other = ConsumerRunner.of(vertx, consumers);
    Promise<Throwable> onEventLoop = Promise.promise();
    vertx.runOnContext(v -> {
      try {
        other.run();
        onEventLoop.complete(null);
      } catch (Throwable e) {
        onEventLoop.complete(e);
      }
    });
    assertThat(join(onEventLoop.future())).isInstanceOf(IllegalStateException.class)
      .hasMessageContaining("Vert.x thread");
  }

  @Test
  void startFailsNamingThePortWhenItIsTaken() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("0.0.0.0"))) {
      ConsumerFactory consumers = new ConsumerFactory(Transports.MEMORY, taken.getLocalPort())
        .route(unique("taken"), m -> Future.succeededFuture());
      ConsumerRunner runner = track(ConsumerRunner.of(vertx, consumers));
      assertThatThrownBy(() -> join(runner.start()))
        .cause().isInstanceOf(StreamtoolsException.class)
        .hasMessageContaining("cannot listen on 0.0.0.0:" + taken.getLocalPort());
      assertThat(runner.isReady()).isFalse();
      join(runner.stop());
      assertThat(vertx.deploymentIDs()).as("nothing left running").isEmpty();
    }
  }

  @Test
  void aLoopThatCannotStartFailsTheStartNamingItsQueue() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("0.0.0.0"))) {
      String good = unique("good");
      String bad = unique("bad");
      // the http loops listen on a taken port, the runner's health on a free one: both loops fail
      ConsumerFactory consumers = new ConsumerFactory(Transports.HTTP, taken.getLocalPort())
        .route(good, m -> Future.succeededFuture())
        .route(bad, m -> Future.succeededFuture());
      ConsumerRunner runner = track(new ConsumerRunner(vertx, consumers.instances(), consumers.handlers(), 0, "0.0.0.0"));
      assertThatThrownBy(() -> join(runner.start()))
        .cause().isInstanceOf(StreamtoolsException.class)
        .satisfies(e -> assertThat(((StreamtoolsException) e).queue()).isIn(good, bad))
        .hasMessageContaining("cannot listen on 0.0.0.0:" + taken.getLocalPort());
      join(runner.stop());
      assertThat(vertx.deploymentIDs()).as("no loop left deployed").isEmpty();
      assertThat(runner.isReady()).isFalse();
    }
  }

  @Test
  void mismatchedInstancesAndHandlersAreRejectedNamingTheQueue() {
    ConsumerFactory a = new ConsumerFactory(Transports.MEMORY, 0)
      .route("shared", m -> Future.succeededFuture())
      .route("only-instances", m -> Future.succeededFuture());
    ConsumerFactory b = new ConsumerFactory(Transports.MEMORY, 0)
      .route("shared", m -> Future.succeededFuture())
      .route("only-handlers", m -> Future.succeededFuture());

    assertThatThrownBy(() -> new ConsumerRunner(a.instances(), a.handlers().entrySet().stream()
      .filter(e -> e.getKey().equals("shared")).collect(java.util.stream.Collectors.toMap(e -> e.getKey(), e -> e.getValue())),
      0, "0.0.0.0"))
      .isInstanceOf(ConfigException.class)
      .hasMessageContaining("queue 'only-instances' has a consumer instance but no handler");
    assertThatThrownBy(() -> new ConsumerRunner(b.instances().entrySet().stream()
      .filter(e -> e.getKey().equals("shared")).collect(java.util.stream.Collectors.toMap(e -> e.getKey(), e -> e.getValue())),
      b.handlers(), 0, "0.0.0.0"))
      .isInstanceOf(ConfigException.class)
      .hasMessageContaining("queue 'only-handlers' has a handler but no consumer instance");
    assertThatThrownBy(() -> new ConsumerRunner(a.instances(), b.handlers(), 0, "0.0.0.0"))
      .isInstanceOf(ConfigException.class)
      .hasMessageContaining("'only-handlers'");
    assertThatThrownBy(() -> ConsumerRunner.of(new ConsumerFactory(Transports.MEMORY, 0)))
      .isInstanceOf(ConfigException.class)
      .hasMessageContaining("no queue to consume");
    assertThatThrownBy(() -> new ConsumerRunner(a.instances(), a.handlers(), 70000, "0.0.0.0"))
      .isInstanceOf(ConfigException.class)
      .hasMessageContaining("70000");
  }

  private ConsumerRunner track(ConsumerRunner runner) {
    runners.add(runner);
    return runner;
  }

  private Producer producer(String transport, String queue, int port) {
    Producer p = Transports.PRODUCERS.get(transport).create(vertx, queue,
      new JsonObject().put("HTTP_HOST", "127.0.0.1").put("HTTP_PORT", port));
    join(p.init());
    return p;
  }

  private HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
      .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Nothing listens on the port any more. Checked with a new socket, not with {@link #http}: that client keeps
   * its (h2c-upgraded) connection from the earlier requests, and a request racing the server's GOAWAY on it
   * fails with an IOException, not a refused connection (seen in CI).
   */
  private static void assertPortReleased(int port) {
    assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class);
  }

  private static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static <T> T join(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e.getCause() != null ? e.getCause() : e);
    }
  }
}
