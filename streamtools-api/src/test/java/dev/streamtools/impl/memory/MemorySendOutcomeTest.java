package dev.streamtools.impl.memory;

import dev.streamtools.ConsumerLoop;
import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.RouteOptions;
import dev.streamtools.SendException;
import dev.streamtools.Transports;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** What a memory send reports when its consumer cannot take the message: at once, and why. */
class MemorySendOutcomeTest {

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close();
  }

  @Test
  void aSendBeyondMaxPendingIsRefusedAtOnceNamingTheBound() throws Exception {
    String queue = "full-" + UUID.randomUUID();
    CompletableFuture<Void> firstInHandler = new CompletableFuture<>();
    ConsumerLoop loop = Transports.CONSUMER_LOOPS.get(Transports.MEMORY).create(vertx, queue);
    loop.start(m -> {
      firstInHandler.complete(null);
      return Promise.<Void>promise().future();
    }, RouteOptions.defaults().maxInFlight(1).maxPending(1)).toCompletionStage().toCompletableFuture()
      .get(5, TimeUnit.SECONDS);
    Producer producer = Transports.PRODUCERS.get(Transports.MEMORY).create(vertx, queue);

    producer.send(Message.text("in the handler")).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    firstInHandler.get(5, TimeUnit.SECONDS);
    Future<Void> waiting = producer.send(Message.text("waits for the handler"));
    Throwable refused = producer.send(Message.text("one too many")).toCompletionStage().toCompletableFuture()
      .handle((v, e) -> e).get(5, TimeUnit.SECONDS);

    assertThat(refused).as("the send beyond maxPending fails, well within the 30 s send timeout")
      .isInstanceOf(SendException.class)
      .hasMessageContaining("memory queue '" + queue + "' is full: 1 messages wait for the handler (maxPending)");
    assertThat(waiting.isComplete()).as("the send within maxPending still waits for the handler").isFalse();
  }

  /**
   * Closing unregisters the loop's event-bus consumer while envelopes are on their way to it; the event bus
   * discards those, and their senders would wait out the send timeout (30 s) to learn it.
   */
  @Test
  void closingTheLoopUnderAFloodSettlesEverySendAtOnceAndLosesNoneItAcknowledged() throws Exception {
    String queue = "flood-" + UUID.randomUUID();
    AtomicInteger handled = new AtomicInteger();
    ConsumerLoop loop = Transports.CONSUMER_LOOPS.get(Transports.MEMORY).create(vertx, queue);
    loop.start(m -> {
      handled.incrementAndGet();
      return Future.succeededFuture();
    }).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    Producer producer = Transports.PRODUCERS.get(Transports.MEMORY).create(vertx, queue);
    Flood flood = new Flood(producer);
    Context senderContext = vertx.getOrCreateContext();
    senderContext.runOnContext(v -> flood.start(256));

    await().atMost(Duration.ofSeconds(10)).until(() -> flood.succeeded.get() >= 20_000);
    loop.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    senderContext.runOnContext(v -> flood.stopping = true);

    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(flood.outstanding.get())
      .as("sends still waiting 5 s after the close (send timeout 30 s)").isZero());
    assertThat(flood.failed.get()).as("sends failed when the consumer went away").isPositive();
    assertThat(flood.unexpected.get()).as("a failure other than the consumer closing or gone").isNull();
    assertThat(handled.get()).as("every send that succeeded was handled").isEqualTo(flood.succeeded.get());
  }

  /** Keeps sends outstanding from one context until told to stop; every field is touched on that context. */
  private static final class Flood {
    private final Producer producer;
    final AtomicInteger outstanding = new AtomicInteger();
    final AtomicInteger succeeded = new AtomicInteger();
    final AtomicInteger failed = new AtomicInteger();
    final AtomicReference<Throwable> unexpected = new AtomicReference<>();
    boolean stopping;

    Flood(Producer producer) {
      this.producer = producer;
    }

    void start(int window) {
      for (int i = 0; i < window; i++) {
        sendOne();
      }
    }

    private void sendOne() {
      outstanding.incrementAndGet();
      producer.send(Message.text("m")).onComplete(ar -> {
        if (ar.succeeded()) {
          succeeded.incrementAndGet();
        } else {
          failed.incrementAndGet();
          String why = ar.cause().getMessage();
          if (!why.contains("consumer is closing") && !why.contains("no consumer is listening")) {
            unexpected.compareAndSet(null, ar.cause());
          }
        }
        outstanding.decrementAndGet();
        if (!stopping) {
          sendOne();
        }
      });
    }
  }
}
