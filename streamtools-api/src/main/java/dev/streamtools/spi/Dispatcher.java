package dev.streamtools.spi;

import dev.streamtools.MessageHandler;
import dev.streamtools.RouteOptions;
import dev.streamtools.impl.DispatcherImpl;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;

import java.time.Duration;

/**
 * The one place where a message meets its handler, shared by every transport: it bounds in-flight
 * messages, calls the handler, enforces the handler timeout and settles each {@link Delivery} by the
 * route's failure policy (ack, retry with backoff, dead letter). Deliveries beyond the in-flight bound
 * wait in arrival order; transports use {@link #pending()} and {@link #capacityHandler(Handler)} to stop
 * fetching instead of letting that queue grow.
 *
 * <p>Not thread safe: call it from its context (the transport's event loop). Handler Futures may
 * complete on any thread; settling always happens on the context.
 */
public interface Dispatcher {

  /** How a delivery was settled. */
  enum Outcome {
    /** The handler succeeded and the delivery was acked. */
    ACKED,
    /** The handler failed, attempts remain: redelivery scheduled. */
    RETRIED,
    /** Attempts exhausted or undecodable: moved to the dead-letter queue. */
    DEAD_LETTERED,
    /** The loop closed before the handler ran: given back to the transport. */
    RELEASED
  }

  /**
   * @param context the context handlers run on
   * @param transport the transport name, for errors and logs
   * @param queue the queue, for errors and logs
   * @param handler the route's handler
   * @param options the route's options
   * @return a new dispatcher
   */
  static Dispatcher create(Context context, String transport, String queue, MessageHandler handler,
                           RouteOptions options) {
    return new DispatcherImpl(context, transport, queue, handler, options);
  }

  /**
   * Hands a delivery to the handler now, or when a slot frees. Never drops it: after {@link #close}
   * it is released at once.
   *
   * @param delivery the delivery
   * @return a Future completed with how it was settled, failed if settling itself failed
   */
  Future<Outcome> dispatch(Delivery delivery);

  /** @return messages in the handler now */
  int inFlight();

  /** @return messages waiting for a slot */
  int pending();

  /** @return {@code true} when a delivery dispatched now would reach the handler at once */
  boolean hasCapacity();

  /**
   * @param handler called on the context each time a message leaves the handler and a slot is free; never
   *     re-entered: slots freed while it runs (a handler that completes at once) call it again after it returns,
   *     so it may dispatch until {@link #hasCapacity()} is false without deepening the stack
   * @return this
   */
  Dispatcher capacityHandler(Handler<Void> handler);

  /**
   * Stops dispatching: waiting deliveries are released, later ones released at once; then waits up to
   * {@code drainTimeout} for the handler to finish what it holds. Idempotent.
   *
   * @param drainTimeout how long to wait for in-flight messages
   * @return a Future completed when nothing is in flight or the timeout passed (it never fails); its
   *     value is the number still in flight, which the transport leaves to be redelivered
   */
  Future<Integer> close(Duration drainTimeout);
}
