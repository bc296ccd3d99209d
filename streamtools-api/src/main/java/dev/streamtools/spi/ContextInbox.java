package dev.streamtools.spi;

import io.vertx.core.Context;
import io.vertx.core.internal.ContextInternal;
import org.jctools.queues.varhandle.MpscUnboundedVarHandleArrayQueue;

import java.util.Queue;
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
  /**
   * Slots of each array the queue links. The queue makes a new array each time its producers fill one, whatever its
   * size, so a small one keeps an inbox small (some are made for a single retry) at the same cost per event.
   */
  private static final int QUEUE_CHUNK = 128;

  private final Context context;
  // One consumer, the context, whose tasks never overlap: an array queue for many producers and one consumer, with
  // no node per event and its two ends on separate cache lines. With the ConcurrentLinkedQueue it replaces, submit
  // cost each Kafka acknowledgement 32 ns on the client's thread and the poll 16 on the loop; now 13 and 3
  // (BENCHMARKS.md, twenty-third session).
  private final Queue<Runnable> events = new MpscUnboundedVarHandleArrayQueue<>(QUEUE_CHUNK);
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
    scheduleDrain();
  }

  private void scheduleDrain() {
    // read before the compare-and-set, which would otherwise take the flag's cache line from the loop on every
    // event of a burst: a drain that cleared the flag reads the queue after it, and the queue's producer index is
    // written (by a compare-and-set) before this read, so the drain finds the event or this read finds the flag clear
    if (!scheduled.get() && scheduled.compareAndSet(false, true)) {
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
        scheduleDrain();
        return;
      }
    }
  }
}
