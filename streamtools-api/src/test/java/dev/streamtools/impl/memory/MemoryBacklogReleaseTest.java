package dev.streamtools.impl.memory;

import dev.streamtools.ConsumerLoop;
import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.RouteOptions;
import dev.streamtools.SendOptions;
import dev.streamtools.Transports;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A handler that stalls while a long backlog waits for admission, then answers at once (a completed Future)
 * when it resumes: the whole backlog is admitted and handled. Each admission used to admit the next one from
 * inside the previous handler's completion, one stack frame deeper each time, until the event loop's stack
 * overflowed half-way and left requests answered but never handled.
 */
class MemoryBacklogReleaseTest {

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close();
  }

  @Test
  void aLongBacklogReleasedByASynchronousHandlerIsAllHandled() throws Exception {
    String queue = "backlog-" + UUID.randomUUID();
    int maxInFlight = 64;
    int backlog = 20_000;
    AtomicInteger handled = new AtomicInteger();
    ArrayDeque<Promise<Void>> held = new ArrayDeque<>();
    boolean[] stalled = {true};
    CompletableFuture<Context> consumerContext = new CompletableFuture<>();
    ConsumerLoop loop = Transports.CONSUMER_LOOPS.get(Transports.MEMORY).create(vertx, queue);
    vertx.runOnContext(v -> {
      consumerContext.complete(Vertx.currentContext());
      loop.start(m -> {
        handled.incrementAndGet();
        if (!stalled[0]) {
          return Future.succeededFuture();
        }
        Promise<Void> p = Promise.promise();
        held.add(p);
        return p.future();
      }, RouteOptions.defaults().maxInFlight(maxInFlight).maxPending(backlog));
    });
    Context context = consumerContext.get(5, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(5)).until(loop::isReady);
    Producer producer = Transports.PRODUCERS.get(Transports.MEMORY)
      .create(vertx, queue, new JsonObject().put("MEMORY_SEND_TIMEOUT_MS", 30_000));

    // one turn of the consumer's event loop sends everything; the release is the turn after, once the backlog
    // waits for admission
    CompletableFuture<List<Future<Void>>> burst = new CompletableFuture<>();
    context.runOnContext(v -> {
      List<Future<Void>> sends = new ArrayList<>();
      for (int i = 0; i < maxInFlight + backlog; i++) {
        sends.add(producer.send(Message.json(new JsonObject().put("n", i))));
      }
      burst.complete(sends);
    });
    List<Future<Void>> sends = burst.get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> handled.get() == maxInFlight);
    context.runOnContext(v -> {
      stalled[0] = false;
      Promise<Void> p;
      while ((p = held.poll()) != null) {
        p.complete();
      }
    });

    Future.join(sends).toCompletionStage().toCompletableFuture().handle((v, e) -> v).get(30, TimeUnit.SECONDS);
    assertThat(sends.stream().filter(Future::failed).count()).as("failed sends, the first: %s",
      sends.stream().filter(Future::failed).findFirst().map(f -> f.cause().getMessage()).orElse("none")).isZero();
    await().atMost(Duration.ofSeconds(10)).until(() -> handled.get() == maxInFlight + backlog);
    assertThat(loop.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS)).isNull();
  }

  @Test
  void aSendThatTimedOutWaitingForTheHandlerIsNeverHandled() throws Exception {
    String queue = "expired-" + UUID.randomUUID();
    List<String> handled = new java.util.concurrent.CopyOnWriteArrayList<>();
    ArrayDeque<Promise<Void>> held = new ArrayDeque<>();
    CompletableFuture<Context> consumerContext = new CompletableFuture<>();
    ConsumerLoop loop = Transports.CONSUMER_LOOPS.get(Transports.MEMORY).create(vertx, queue);
    vertx.runOnContext(v -> {
      consumerContext.complete(Vertx.currentContext());
      loop.start(m -> {
        handled.add(m.body().toString());
        if (!m.body().toString().equals("first")) {
          return Future.succeededFuture();
        }
        Promise<Void> p = Promise.promise();
        held.add(p);
        return p.future();
      }, RouteOptions.defaults().maxInFlight(1));
    });
    Context context = consumerContext.get(5, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(5)).until(loop::isReady);
    Producer producer = Transports.PRODUCERS.get(Transports.MEMORY).create(vertx, queue);

    producer.send(Message.text("first")).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    Future<Void> impatient = producer.send(Message.text("impatient"), SendOptions.defaults()
      .timeout(Duration.ofMillis(300)));
    assertThat(impatient.toCompletionStage().toCompletableFuture().handle((v, e) -> e).get(5, TimeUnit.SECONDS))
      .as("the send waiting for the busy handler times out").isNotNull()
      .hasMessageContaining("within 300 ms");
    context.runOnContext(v -> held.poll().complete());
    // the queue is first in, first out: once "last" is handled, "impatient" had its turn
    producer.send(Message.text("last")).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(5)).until(() -> handled.contains("last"));

    assertThat(handled).as("a send reported as failed is not handled").containsExactly("first", "last");
  }
}
