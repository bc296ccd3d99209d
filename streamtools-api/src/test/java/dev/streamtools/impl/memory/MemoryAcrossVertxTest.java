package dev.streamtools.impl.memory;

import dev.streamtools.ConsumerLoop;
import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.SendException;
import dev.streamtools.Transports;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** A memory queue is in-process: a producer on one Vert.x instance reaches a consumer on another. */
class MemoryAcrossVertxTest {

  private final Vertx consumerSide = Vertx.vertx();
  private final Vertx producerSide = Vertx.vertx();

  @AfterEach
  void close() {
    consumerSide.close();
    producerSide.close();
  }

  @Test
  void aProducerOnAnotherVertxReachesTheConsumerAndCompletesOnItsOwnContext() throws Exception {
    String queue = "across-" + UUID.randomUUID();
    CopyOnWriteArrayList<Message> got = new CopyOnWriteArrayList<>();
    ConsumerLoop loop = Transports.CONSUMER_LOOPS.get(Transports.MEMORY).create(consumerSide, queue);
    loop.start(m -> {
      got.add(m);
      return Future.succeededFuture();
    }).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);

    Producer producer = Transports.PRODUCERS.get(Transports.MEMORY).create(producerSide, queue);
    Context producerContext = producerSide.getOrCreateContext();
    CompletableFuture<Boolean> completedOnProducerContext = new CompletableFuture<>();
    producerContext.runOnContext(v -> producer.send(Message.json(new JsonObject().put("id", 42)))
      .onComplete(ar -> completedOnProducerContext.complete(
        ar.succeeded() && Vertx.currentContext() != null && Vertx.currentContext().owner() == producerSide)));

    assertThat(completedOnProducerContext.get(5, TimeUnit.SECONDS)).isTrue();
    await().atMost(Duration.ofSeconds(5)).until(() -> got.size() == 1);
    assertThat(got.get(0).json().getInteger("id")).isEqualTo(42);

    loop.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertThatThrownBy(() -> producer.send(Message.text("nobody listens")).toCompletionStage()
      .toCompletableFuture().get(5, TimeUnit.SECONDS))
      .hasCauseInstanceOf(SendException.class)
      .hasMessageContaining("no consumer is listening on memory queue '" + queue + "'");
  }

  @Test
  void aBurstOfFiveThousandFromTheConsumersOwnEventLoopIsAllTaken() throws Exception {
    String queue = "burst-" + UUID.randomUUID();
    java.util.concurrent.atomic.AtomicInteger handled = new java.util.concurrent.atomic.AtomicInteger();
    CompletableFuture<Context> consumerContext = new CompletableFuture<>();
    ConsumerLoop loop = Transports.CONSUMER_LOOPS.get(Transports.MEMORY).create(consumerSide, queue);
    loop.start(m -> {
      consumerContext.complete(Vertx.currentContext());
      handled.incrementAndGet();
      return Future.succeededFuture();
    }, dev.streamtools.RouteOptions.defaults().maxPending(100_000))
      .toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    Producer producer = Transports.PRODUCERS.get(Transports.MEMORY)
      .create(consumerSide, queue, new JsonObject().put("MEMORY_SEND_TIMEOUT_MS", 10_000));

    producer.send(Message.text("first")).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    // one turn of the consumer's own event loop sends the whole burst: the event bus buffers all of it
    // before the consumer can take any
    int n = 5_000;
    CompletableFuture<java.util.List<Future<Void>>> burst = new CompletableFuture<>();
    consumerContext.get(5, TimeUnit.SECONDS).runOnContext(v -> {
      java.util.List<Future<Void>> sends = new java.util.ArrayList<>();
      for (int i = 0; i < n; i++) {
        sends.add(producer.send(Message.json(new JsonObject().put("n", i))));
      }
      burst.complete(sends);
    });
    java.util.List<Future<Void>> sends = burst.get(10, TimeUnit.SECONDS);
    Future.join(sends).toCompletionStage().toCompletableFuture().handle((v, e) -> v).get(30, TimeUnit.SECONDS);
    assertThat(sends).allSatisfy(f -> assertThat(f.succeeded()).as(String.valueOf(f.cause())).isTrue());
    await().atMost(Duration.ofSeconds(10)).until(() -> handled.get() == n + 1);
  }
}
