package dev.streamtools.impl.memory;

import dev.streamtools.ConsumerLoop;
import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.SendException;
import dev.streamtools.Transports;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** {@code Producer.close()} waits for the sends started before it, as the Producer contract says. */
class MemoryProducerCloseTest {

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close();
  }

  @Test
  void closeCompletesOnlyOnceTheSendsStartedBeforeItAreSettled() throws Exception {
    String queue = "close-" + UUID.randomUUID();
    AtomicInteger handled = new AtomicInteger();
    ConsumerLoop loop = Transports.CONSUMER_LOOPS.get(Transports.MEMORY).create(vertx, queue);
    Context consumerContext = vertx.getOrCreateContext();
    CompletableFuture<Void> started = new CompletableFuture<>();
    consumerContext.runOnContext(v -> loop.start(m -> {
      handled.incrementAndGet();
      return Future.succeededFuture();
    }).onComplete(ar -> started.complete(null)));
    started.get(5, TimeUnit.SECONDS);
    Producer producer = Transports.PRODUCERS.get(Transports.MEMORY).create(vertx, queue);

    // the consumer's event loop is held, so the sends stay on their way to it, unsettled
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    consumerContext.runOnContext(v -> {
      held.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    assertThat(held.await(5, TimeUnit.SECONDS)).isTrue();
    List<Future<Void>> sends = List.of(producer.send(Message.text("a")), producer.send(Message.text("b")),
      producer.send(Message.text("c")));
    Future<Void> closed = producer.close();
    Future<Void> afterClose = producer.send(Message.text("after close"));

    assertThat(closed.isComplete()).as("close waits for the three sends on their way").isFalse();
    assertThat(producer.close()).as("close is idempotent: the same wait").isSameAs(closed);
    Throwable refused = afterClose.toCompletionStage().toCompletableFuture().handle((v, e) -> e)
      .get(5, TimeUnit.SECONDS);
    assertThat(refused).isInstanceOf(SendException.class).hasMessageContaining("producer is closed");

    release.countDown();
    closed.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertThat(sends).allMatch(Future::succeeded);
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(handled.get()).isEqualTo(3));
  }
}
