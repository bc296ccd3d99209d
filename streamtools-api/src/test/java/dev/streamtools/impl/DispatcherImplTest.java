package dev.streamtools.impl;

import dev.streamtools.Message;
import dev.streamtools.RouteOptions;
import dev.streamtools.spi.Delivery;
import dev.streamtools.spi.Dispatcher;
import dev.streamtools.spi.Dispatcher.Outcome;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class DispatcherImplTest {

  private final Vertx vertx = Vertx.vertx();
  private final Context context = vertx.getOrCreateContext();

  @AfterEach
  void close() {
    vertx.close();
  }

  /** Records which settling method the dispatcher chose. */
  private static class RecordingDelivery implements Delivery {
    final Message message = Message.text("m");
    final List<String> calls = new CopyOnWriteArrayList<>();

    @Override
    public Message message() {
      return message;
    }

    @Override
    public int attempt() {
      return 1;
    }

    @Override
    public Future<Void> ack() {
      calls.add("ack");
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> retry(Duration delay, Throwable cause) {
      calls.add("retry");
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> deadLetter(String deadLetterQueue, String reason, Throwable cause) {
      calls.add("deadLetter " + deadLetterQueue);
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> release() {
      calls.add("release");
      return Future.succeededFuture();
    }
  }

  private <T> T onContext(java.util.function.Supplier<T> action) throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    context.runOnContext(v -> result.complete(action.get()));
    return result.get(5, TimeUnit.SECONDS);
  }

  @Test
  void closeReleasesWaitingDeliveriesAndWaitsForTheOnesInTheHandler() throws Exception {
    List<Promise<Void>> inHandler = new CopyOnWriteArrayList<>();
    Dispatcher dispatcher = Dispatcher.create(context, "test", "q", m -> {
      Promise<Void> p = Promise.promise();
      inHandler.add(p);
      return p.future();
    }, RouteOptions.defaults().maxInFlight(2));

    List<RecordingDelivery> deliveries = new ArrayList<>();
    List<Future<Outcome>> outcomes = onContext(() -> {
      List<Future<Outcome>> list = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        RecordingDelivery d = new RecordingDelivery();
        deliveries.add(d);
        list.add(dispatcher.dispatch(d));
      }
      return list;
    });
    assertThat(onContext(dispatcher::inFlight)).isEqualTo(2);
    assertThat(onContext(dispatcher::pending)).isEqualTo(3);
    assertThat(onContext(dispatcher::hasCapacity)).isFalse();

    Future<Integer> closed = dispatcher.close(Duration.ofSeconds(5));
    assertThat(outcomes.get(4).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS))
      .isEqualTo(Outcome.RELEASED);
    assertThat(closed.isComplete()).as("close waits for the handler").isFalse();

    context.runOnContext(v -> inHandler.forEach(Promise::complete));
    assertThat(closed.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS)).isZero();
    assertThat(deliveries.subList(0, 2)).allSatisfy(d -> assertThat(d.calls).containsExactly("ack"));
    assertThat(deliveries.subList(2, 5)).allSatisfy(d -> assertThat(d.calls).containsExactly("release"));
    assertThat(dispatcher.dispatch(new RecordingDelivery()).toCompletionStage().toCompletableFuture()
      .get(5, TimeUnit.SECONDS)).isEqualTo(Outcome.RELEASED);
  }

  @Test
  void aHandlerStuckPastTheDrainTimeoutIsReportedAndLeftUnsettled() throws Exception {
    Dispatcher dispatcher = Dispatcher.create(context, "test", "q", m -> Promise.<Void>promise().future(),
      RouteOptions.defaults());
    RecordingDelivery stuck = new RecordingDelivery();
    onContext(() -> dispatcher.dispatch(stuck));

    Integer stillInFlight = dispatcher.close(Duration.ofMillis(100)).toCompletionStage().toCompletableFuture()
      .get(5, TimeUnit.SECONDS);
    assertThat(stillInFlight).isEqualTo(1);
    assertThat(stuck.calls).isEmpty();
  }

  @Test
  void aFailedSettlementFailsTheOutcomeAndFreesTheSlot() throws Exception {
    Dispatcher dispatcher = Dispatcher.create(context, "test", "q", m -> Future.succeededFuture(),
      RouteOptions.defaults().maxInFlight(1));
    RecordingDelivery brokenAck = new RecordingDelivery() {
      @Override
      public Future<Void> ack() {
        return Future.failedFuture(new IllegalStateException("channel closed"));
      }
    };
    Future<Outcome> first = onContext(() -> dispatcher.dispatch(brokenAck));
    assertThat(first.toCompletionStage().toCompletableFuture()).failsWithin(5, TimeUnit.SECONDS);
    RecordingDelivery next = new RecordingDelivery();
    assertThat(onContext(() -> dispatcher.dispatch(next)).toCompletionStage().toCompletableFuture()
      .get(5, TimeUnit.SECONDS)).isEqualTo(Outcome.ACKED);
  }

  @Test
  void aDispatchFromAMessageHandlerOnTheSameEventLoopCountsAtOnce() throws Exception {
    Dispatcher dispatcher = Dispatcher.create(context, "test", "q", m -> Promise.<Void>promise().future(),
      RouteOptions.defaults().maxInFlight(1));
    CompletableFuture<int[]> counts = new CompletableFuture<>();
    onContext(() -> vertx.eventBus().<String>consumer("dispatch-test", msg -> {
      // event-bus handlers run on a duplicated context of this event loop, not on `context` itself
      dispatcher.dispatch(new RecordingDelivery());
      counts.complete(new int[] {dispatcher.inFlight(), dispatcher.hasCapacity() ? 1 : 0});
    }).completion()).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);

    vertx.eventBus().send("dispatch-test", "go");
    assertThat(counts.get(5, TimeUnit.SECONDS)).containsExactly(1, 0);
  }

  @Test
  void deliveriesThatWaitedForASlotEachGetTheirOwnOutcome() throws Exception {
    List<Promise<Void>> inHandler = new CopyOnWriteArrayList<>();
    Dispatcher dispatcher = Dispatcher.create(context, "test", "q", m -> {
      switch (m.body().toString()) {
        case "slow":
          Promise<Void> p = Promise.promise();
          inHandler.add(p);
          return p.future();
        case "bad":
          throw new IllegalArgumentException("bad input");
        default:
          return Future.succeededFuture();
      }
    }, RouteOptions.defaults().maxInFlight(1));
    RecordingDelivery slow = new RecordingDelivery() {
      final Message message = Message.text("slow");

      @Override
      public Message message() {
        return message;
      }
    };
    RecordingDelivery bad = new RecordingDelivery() {
      final Message message = Message.text("bad");

      @Override
      public Message message() {
        return message;
      }
    };
    RecordingDelivery good = new RecordingDelivery();

    List<Future<Outcome>> outcomes = onContext(() -> List.of(dispatcher.dispatch(slow), dispatcher.dispatch(bad),
      dispatcher.dispatch(good)));
    assertThat(onContext(dispatcher::pending)).isEqualTo(2);
    assertThat(outcomes).noneMatch(Future::isComplete);

    context.runOnContext(v -> inHandler.get(0).complete());
    List<Outcome> settled = new ArrayList<>();
    for (Future<Outcome> f : outcomes) {
      settled.add(f.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS));
    }
    assertThat(settled).containsExactly(Outcome.ACKED, Outcome.RETRIED, Outcome.ACKED);
    assertThat(bad.calls).containsExactly("retry");
    assertThat(onContext(dispatcher::inFlight)).isZero();
    assertThat(onContext(dispatcher::hasCapacity)).isTrue();
  }
}
