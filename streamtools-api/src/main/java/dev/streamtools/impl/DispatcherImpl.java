package dev.streamtools.impl;

import dev.streamtools.FailurePolicy;
import dev.streamtools.HandlerTimeoutException;
import dev.streamtools.Message;
import dev.streamtools.MessageDecodeException;
import dev.streamtools.MessageHandler;
import dev.streamtools.RouteOptions;
import dev.streamtools.spi.Delivery;
import dev.streamtools.spi.Dispatcher;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;

/** See {@link Dispatcher}. Every field is touched only on {@link #context}. */
public final class DispatcherImpl implements Dispatcher {

  private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);
  private static final Future<Outcome> ACKED = Future.succeededFuture(Outcome.ACKED);

  private final Context context;
  private final Vertx vertx;
  private final String transport;
  private final String queue;
  private final MessageHandler handler;
  private final int maxInFlight;
  private final FailurePolicy policy;
  private final long handlerTimeoutMillis;
  private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();

  private int inFlight;
  private boolean pumping;
  private boolean closed;
  private Handler<Void> capacityHandler;
  private boolean notifyingCapacity;
  private boolean capacityFreedWhileNotifying;
  private Promise<Integer> drained;
  private long drainTimer = -1;
  // Vert.x hands messages and requests over on duplicated contexts, never == context; on an event loop the
  // thread tells whether we may act inline (doing it asynchronously would let intake outrun the bound).
  private volatile Thread eventLoopThread;

  public DispatcherImpl(Context context, String transport, String queue, MessageHandler handler,
                        RouteOptions options) {
    this.context = Objects.requireNonNull(context, "context");
    this.vertx = context.owner();
    this.transport = transport;
    this.queue = queue;
    this.handler = Objects.requireNonNull(handler, "handler");
    this.maxInFlight = options.maxInFlight();
    this.policy = options.failurePolicy();
    this.handlerTimeoutMillis = policy.handlerTimeout().toMillis();
    if (context.isEventLoopContext()) {
      if (Vertx.currentContext() == context) {
        eventLoopThread = Thread.currentThread();
      } else {
        context.runOnContext(v -> eventLoopThread = Thread.currentThread());
      }
    }
  }

  private boolean onContextThread() {
    Context current = Vertx.currentContext();
    return current == context || (current != null && Thread.currentThread() == eventLoopThread);
  }

  private record Waiting(Delivery delivery, Promise<Outcome> promise) {
  }

  @Override
  public Future<Outcome> dispatch(Delivery delivery) {
    if (!onContextThread()) {
      Promise<Outcome> promise = Promise.promise();
      context.runOnContext(v -> dispatch(delivery).onComplete(promise));
      return promise.future();
    }
    if (closed) {
      return release(delivery);
    }
    if (!pumping && waiting.isEmpty() && inFlight < maxInFlight) {
      return start(delivery, null);
    }
    Promise<Outcome> promise = Promise.promise();
    waiting.add(new Waiting(delivery, promise));
    pump();
    return promise.future();
  }

  @Override
  public int inFlight() {
    return inFlight;
  }

  @Override
  public int pending() {
    return waiting.size();
  }

  @Override
  public boolean hasCapacity() {
    return !closed && inFlight + waiting.size() < maxInFlight;
  }

  @Override
  public Dispatcher capacityHandler(Handler<Void> handler) {
    this.capacityHandler = handler;
    return this;
  }

  @Override
  public Future<Integer> close(Duration drainTimeout) {
    if (!onContextThread()) {
      Promise<Integer> promise = Promise.promise();
      context.runOnContext(v -> close(drainTimeout).onComplete(promise));
      return promise.future();
    }
    if (drained != null) {
      return drained.future();
    }
    closed = true;
    drained = Promise.promise();
    Waiting w;
    while ((w = waiting.poll()) != null) {
      release(w.delivery).onComplete(w.promise);
    }
    if (inFlight == 0) {
      drained.complete(0);
    } else {
      drainTimer = vertx.setTimer(Math.max(1, drainTimeout.toMillis()), id -> {
        drainTimer = -1;
        LOG.warn("[{} queue '{}'] {} message(s) still in the handler after the {} ms drain timeout; they are "
          + "left unacknowledged for redelivery", transport, queue, inFlight, drainTimeout.toMillis());
        drained.tryComplete(inFlight);
      });
    }
    return drained.future();
  }

  private void pump() {
    if (pumping) {
      return;
    }
    pumping = true;
    try {
      while (!closed && inFlight < maxInFlight && !waiting.isEmpty()) {
        Waiting w = waiting.poll();
        start(w.delivery, w.promise);
      }
    } finally {
      pumping = false;
    }
  }

  /**
   * Calls the handler. A handler that completes at once, settled at once (an ack), finishes here with neither a
   * {@link Settlement} nor a Promise: on a Kafka backlog, the dispatcher's share of the event loop's samples fell
   * from 18% to 10% without them (completing a Promise takes its lock).
   *
   * @param promise the promise of a delivery that waited for its slot, or {@code null} when the caller of
   *     {@link #dispatch} takes the returned Future
   * @return the outcome (ignored when {@code promise} is given)
   */
  private Future<Outcome> start(Delivery delivery, Promise<Outcome> promise) {
    inFlight++;
    Future<Void> result;
    try {
      result = handler.handle(delivery.message());
      if (result == null) {
        result = Future.failedFuture(new IllegalStateException("handler returned null instead of a Future"));
      }
    } catch (VirtualMachineError e) {
      throw e;
    } catch (Throwable t) {
      result = Future.failedFuture(t);
    }
    if (result.isComplete()) {
      return settleThenFinish(delivery, result, promise);
    }
    Settlement settlement = new Settlement(delivery, promise != null ? promise : Promise.promise());
    if (handlerTimeoutMillis > 0) {
      settlement.timer = vertx.setTimer(handlerTimeoutMillis, id -> settlement.handlerDone(Future.failedFuture(
        new HandlerTimeoutException(transport, queue, delivery.message().id(), policy.handlerTimeout()))));
    }
    result.onComplete(ar -> onContext(() -> settlement.handlerDone(ar)));
    return settlement.promise.future();
  }

  private void onContext(Runnable action) {
    if (onContextThread()) {
      action.run();
    } else {
      context.runOnContext(v -> action.run());
    }
  }

  /** The handler of a message that is still running: its timeout, and the first of timeout and result wins. */
  private final class Settlement {
    private final Delivery delivery;
    private final Promise<Outcome> promise;
    private long timer = -1;
    private boolean handlerDone;

    Settlement(Delivery delivery, Promise<Outcome> promise) {
      this.delivery = delivery;
      this.promise = promise;
    }

    void handlerDone(AsyncResult<Void> ar) {
      if (handlerDone) {
        if (ar.failed() && !(ar.cause() instanceof HandlerTimeoutException)) {
          LOG.debug("[{} queue '{}'] handler for message {} failed after its timeout: {}", transport, queue,
            delivery.message().id(), ar.cause().toString());
        }
        return;
      }
      handlerDone = true;
      if (timer != -1) {
        vertx.cancelTimer(timer);
      }
      settleThenFinish(delivery, ar, promise);
    }
  }

  /**
   * Settles a delivery by what its handler did, then frees its slot.
   *
   * @param promise completed with the outcome, or {@code null} when the caller takes the returned Future
   * @return the outcome
   */
  private Future<Outcome> settleThenFinish(Delivery delivery, AsyncResult<Void> handled, Promise<Outcome> promise) {
    Future<Outcome> outcome;
    try {
      outcome = settle(delivery, handled);
    } catch (RuntimeException e) {
      outcome = Future.failedFuture(e);
    }
    if (outcome.isComplete()) {
      finished(delivery, outcome, promise);
      return promise != null ? promise.future() : outcome;
    }
    Promise<Outcome> later = promise != null ? promise : Promise.promise();
    outcome.onComplete(ar -> onContext(() -> finished(delivery, ar, later)));
    return later.future();
  }

  private void finished(Delivery delivery, AsyncResult<Outcome> outcome, Promise<Outcome> promise) {
    inFlight--;
    if (outcome.failed()) {
      // nothing is lost here: an unsettled message stays with the broker (a lost connection is the usual cause)
      LOG.warn("[{} queue '{}'] message {} could not be settled; the transport will redeliver it: {}",
        transport, queue, delivery.message().id(), outcome.cause().toString());
    }
    if (promise != null) {
      promise.handle(outcome);
    }
    if (closed) {
      if (inFlight == 0 && drained != null && drained.tryComplete(0) && drainTimer != -1) {
        vertx.cancelTimer(drainTimer);
      }
      return;
    }
    pump();
    notifyCapacity();
  }

  // A handler that completes at once frees its slot inside the capacity handler's own dispatch; calling the
  // capacity handler again from there would nest one level per message of a backlog until the stack overflows.
  private void notifyCapacity() {
    if (capacityHandler == null) {
      return;
    }
    if (notifyingCapacity) {
      capacityFreedWhileNotifying = true;
      return;
    }
    notifyingCapacity = true;
    try {
      do {
        capacityFreedWhileNotifying = false;
        if (closed || !hasCapacity()) {
          return;
        }
        capacityHandler.handle(null);
      } while (capacityFreedWhileNotifying);
    } finally {
      notifyingCapacity = false;
    }
  }

  private Future<Outcome> settle(Delivery delivery, AsyncResult<Void> ar) {
    if (ar.succeeded()) {
      Future<Void> acked = delivery.ack();
      return acked.succeeded() ? ACKED : acked.map(Outcome.ACKED);
    }
    Throwable cause = ar.cause();
    Message message = delivery.message();
    String deadLetterQueue = policy.deadLetterQueueFor(queue);
    MessageDecodeException undecodable = findDecodeFailure(cause);
    if (undecodable != null) {
      // HTTP keeps no dead-letter queue (the caller gets 400/500): the log names the outcome, not a queue
      LOG.warn("[{} queue '{}'] message {} cannot be decoded; dead-lettering it: {}", transport, queue,
        message.id(), undecodable.getMessage());
      return delivery.deadLetter(deadLetterQueue, "undecodable: " + undecodable.getMessage(), undecodable)
        .map(Outcome.DEAD_LETTERED);
    }
    int attempt = delivery.attempt();
    if (attempt < policy.maxAttempts()) {
      Duration delay = policy.backoffAfter(attempt);
      LOG.info("[{} queue '{}'] message {} failed attempt {}/{}; retrying in {} ms: {}", transport, queue,
        message.id(), attempt, policy.maxAttempts(), delay.toMillis(), cause.toString());
      return delivery.retry(delay, cause).map(Outcome.RETRIED);
    }
    LOG.warn("[{} queue '{}'] message {} failed attempt {}/{}; dead-lettering it: {}", transport, queue,
      message.id(), attempt, policy.maxAttempts(), cause.toString());
    return delivery.deadLetter(deadLetterQueue, "failed after " + attempt + " attempt(s): " + cause, cause)
      .map(Outcome.DEAD_LETTERED);
  }

  private static MessageDecodeException findDecodeFailure(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof MessageDecodeException) {
        return (MessageDecodeException) c;
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return null;
  }

  private Future<Outcome> release(Delivery delivery) {
    Future<Void> released;
    try {
      released = delivery.release();
    } catch (RuntimeException e) {
      released = Future.failedFuture(e);
    }
    return released.map(Outcome.RELEASED);
  }
}
