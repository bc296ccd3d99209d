package dev.streamtools.impl.memory;

import dev.streamtools.Message;
import dev.streamtools.spi.ContextInbox;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Which Vert.x instances have a consumer on each memory queue, JVM-wide. A memory queue is in-process,
 * not per Vert.x instance: a producer on one instance (the design's producer snippet makes its own
 * {@code Vertx.vertx()}) must reach a consumer running on the runner's instance.
 */
final class MemoryQueues {

  private static final Map<String, List<Vertx>> CONSUMERS = new ConcurrentHashMap<>();
  private static final AtomicInteger ROUND_ROBIN = new AtomicInteger();
  // never modified: a memory queue's envelopes stay in the JVM
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private MemoryQueues() {
  }

  static void register(String queue, Vertx vertx) {
    CONSUMERS.computeIfAbsent(queue, q -> new CopyOnWriteArrayList<>()).add(vertx);
  }

  static void unregister(String queue, Vertx vertx) {
    CONSUMERS.computeIfPresent(queue, (q, list) -> {
      list.remove(vertx);
      return list.isEmpty() ? null : list;
    });
  }

  /**
   * Sends a message to the queue's consumers: on the sender's own event bus when it has a consumer of the
   * queue (the event bus then balances between its consumers), otherwise on another instance's. The Future
   * completes on the context of {@code replies} when a consumer takes the message, and fails when one refuses
   * it, when none listens, or when none takes it within {@code timeoutMillis}.
   *
   * @param sender the sender's instance
   * @param replies an inbox of the sender's context
   * @param message the message, addressed to {@code queue}
   * @param attempt which delivery this is, from 1
   * @param timeoutMillis how long to wait for a consumer to take it
   * @param result what the Future succeeds with
   * @param settled runs once the Future is completed or failed, on the context of {@code replies}; or {@code null}
   * @param <T> its type
   * @return the send's outcome
   */
  static <T> Future<T> send(Vertx sender, ContextInbox replies, Message message, int attempt, long timeoutMillis,
                            T result, Runnable settled) {
    String queue = message.queue();
    List<Vertx> instances = CONSUMERS.get(queue);
    Vertx target = instances == null || instances.isEmpty() || instances.contains(sender) ? sender
      : instances.get(Math.floorMod(ROUND_ROBIN.getAndIncrement(), instances.size()));
    MemoryWire.Envelope<T> envelope = new MemoryWire.Envelope<>(message, attempt, sender, replies, result,
      timeoutMillis, settled);
    Future<T> taken = envelope.awaitTaken();
    target.eventBus().<MemoryWire.Envelope<T>>sender(MemoryWire.address(queue), LOCAL)
      .write(envelope)
      .onFailure(e -> envelope.refuse(MemoryWire.undelivered(e, queue)));
    return taken;
  }
}
