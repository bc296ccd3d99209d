package dev.streamtools.runner.example;

import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.Transports;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * Feeds {@link OrdersService} from the same process, with the producers of the same transport, so that
 * the runnable jar shows messages going both ways: every interval one JSON message to
 * {@value OrdersService#QUEUE_1} and one {@link OrdersService.Order} to {@value OrdersService#ORDERS}.
 *
 * <p>Rounds are skipped while {@code active} says no (the service is starting or stopping), so a
 * shutdown does not turn into a burst of refused sends. Call its methods from one thread.
 */
public final class DemoProducer {

  private static final Logger LOG = LoggerFactory.getLogger(DemoProducer.class);

  private final Vertx vertx;
  private final String queueType;
  private final JsonObject config;
  private final long rounds;
  private final long intervalMillis;
  private final BooleanSupplier active;
  private final Promise<Void> done = Promise.promise();
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();

  private Producer queue1;
  private Producer orders;
  // ticks run on the timer's context, send completions on the producers' contexts
  private final AtomicLong round = new AtomicLong();
  private final AtomicLong outstanding = new AtomicLong();
  private volatile long timer = -1;

  /**
   * @param vertx the Vert.x instance to send from
   * @param queueType the transport, the same the service consumes with
   * @param config producer settings ({@code HTTP_HOST}/{@code HTTP_PORT} of the service for http)
   * @param rounds how many rounds to send; negative for no limit
   * @param intervalMillis time between rounds
   * @param active whether to send now
   */
  public DemoProducer(Vertx vertx, String queueType, JsonObject config, long rounds, long intervalMillis,
                      BooleanSupplier active) {
    this.vertx = vertx;
    this.queueType = queueType;
    this.config = config.copy();
    this.rounds = rounds;
    this.intervalMillis = Math.max(1, intervalMillis);
    this.active = active;
  }

  /** @return a Future completed when the producers are ready and the first round is scheduled */
  public Future<Void> start() {
    queue1 = Transports.PRODUCERS.get(queueType).create(vertx, OrdersService.QUEUE_1, config);
    orders = Transports.PRODUCERS.get(queueType).create(vertx, OrdersService.ORDERS, config);
    return Future.all(queue1.init(), orders.init()).<Void>mapEmpty().onSuccess(v -> {
      LOG.info("demo producer: {} via {}, one order and one {} message every {} ms",
        rounds < 0 ? "producing until stopped" : "producing " + rounds + " rounds", queueType, OrdersService.QUEUE_1,
        intervalMillis);
      timer = vertx.setPeriodic(0, intervalMillis, id -> tick());
    });
  }

  private void tick() {
    if (rounds >= 0 && round.get() >= rounds) {
      return;
    }
    if (!active.getAsBoolean()) {
      return;
    }
    outstanding.addAndGet(2); // before the round counts, so that done() cannot complete under it
    long n = round.incrementAndGet();
    JsonObject json = new JsonObject().put("n", n).put("text", "hello " + n);
    OrdersService.Order order = new OrdersService.Order("o-" + n, (int) (n % 5) + 1);
    send(queue1, Message.json(json), OrdersService.QUEUE_1 + " message " + json.encode());
    send(orders, Message.json(order), "order " + order.id() + " x" + order.qty());
    if (rounds >= 0 && n >= rounds) {
      vertx.cancelTimer(timer);
    }
  }

  private void send(Producer producer, Message message, String what) {
    producer.send(message).onComplete(ar -> {
      if (ar.succeeded()) {
        sent.incrementAndGet();
        LOG.info("produced {} via {}", what, queueType);
      } else {
        failed.incrementAndGet();
        LOG.warn("not produced: {}: {}", what, ar.cause().getMessage());
      }
      if (outstanding.decrementAndGet() == 0 && rounds >= 0 && round.get() >= rounds) {
        done.tryComplete();
      }
    });
  }

  /** @return a Future completed when every round of a bounded run has been sent (or failed) */
  public Future<Void> done() {
    return done.future();
  }

  /** @return how many messages the transport took */
  public long sent() {
    return sent.get();
  }

  /** @return how many sends failed */
  public long failed() {
    return failed.get();
  }

  /** @return a Future completed when the producers are closed */
  public Future<Void> close() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    List<Future<Void>> closing = new ArrayList<>();
    for (Producer p : new Producer[] {queue1, orders}) {
      if (p != null) {
        closing.add(p.close());
      }
    }
    return Future.join(closing).mapEmpty();
  }
}
