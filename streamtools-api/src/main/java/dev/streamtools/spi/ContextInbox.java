package dev.streamtools.rabbitmq.impl;

import io.vertx.core.Context;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Hands events from amqp-client's threads (deliveries, confirms, returns) to a Vert.x context in order, with
 * one context task per burst instead of one per event: a consumer with a prefetch of 200 receives its
 * deliveries in bursts, and waking the event loop for each is most of what a delivery costs.
 */
final class ContextInbox {

  private final Context context;
  private final ConcurrentLinkedQueue<Runnable> events = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();

  ContextInbox(Context context) {
    this.context = context;
  }

  /** Runs {@code event} on the context after every event submitted before it. Any thread. */
  void submit(Runnable event) {
    events.add(event);
    if (scheduled.compareAndSet(false, true)) {
      context.runOnContext(v -> drain());
    }
  }

  private void drain() {
    // cleared first: an event added while draining either is seen by this loop or schedules the next drain
    scheduled.set(false);
    Runnable event;
    while ((event = events.poll()) != null) {
      event.run();
    }
  }
}
