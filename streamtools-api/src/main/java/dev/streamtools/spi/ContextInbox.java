package dev.streamtools.spi;

import io.vertx.core.Context;
import io.vertx.core.internal.ContextInternal;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Hands events from a client library's own threads (amqp-client deliveries and confirms, Kafka producer
 * acknowledgements) to a Vert.x context in order, with one context task per burst instead of one per event:
 * brokers answer in bursts, and waking the event loop for each event is most of what the event costs.
 *
 * <p>Thread safety: {@link #submit} may be called from any thread; events run on the context, one at a time,
 * in the order they were submitted.
 */
public final class ContextInbox {

  /** Events one drain runs at most before the event loop's other tasks get their turn. */
  private static final int MAX_EVENTS_PER_DRAIN = 4096;

  private final Context context;
  private final ConcurrentLinkedQueue<Runnable> events = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();

  /**
   * @param context where the events run
   */
  public ContextInbox(Context context) {
    this.context = context;
  }

  /** @return where the events run */
  public Context context() {
    return context;
  }

  /**
   * Runs {@code event} on the context after every event submitted before it. Any thread.
   *
   * @param event what to run; an exception it throws is reported to the context and the next events still run
   */
  public void submit(Runnable event) {
    events.add(event);
    if (scheduled.compareAndSet(false, true)) {
      context.runOnContext(v -> drain());
    }
  }

  private void drain() {
    // cleared first: an event added while draining either is seen by this loop or schedules the next drain
    scheduled.set(false);
    Runnable event;
    for (int ran = 0; (event = events.poll()) != null; ) {
      try {
        event.run();
      } catch (RuntimeException e) {
        ((ContextInternal) context).reportException(e);
      }
      // events that submit more events (a send retried as soon as it fails) would keep the event loop here
      if (++ran == MAX_EVENTS_PER_DRAIN && !events.isEmpty()) {
        if (scheduled.compareAndSet(false, true)) {
          context.runOnContext(v -> drain());
        }
        return;
      }
    }
  }
}
