package dev.streamtools.impl.memory;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
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
   * Sends a request to the queue's consumers: on the sender's own event bus when it has a consumer of
   * the queue (the event bus then balances between its consumers), otherwise on another instance's.
   * The Future completes on the sender's context.
   */
  static Future<?> request(Vertx sender, String queue, MemoryWire.Envelope envelope, DeliveryOptions options) {
    String address = MemoryWire.address(queue);
    List<Vertx> instances = CONSUMERS.get(queue);
    if (instances == null || instances.isEmpty() || instances.contains(sender)) {
      return sender.eventBus().request(address, envelope, options);
    }
    Vertx target = instances.get(Math.floorMod(ROUND_ROBIN.getAndIncrement(), instances.size()));
    Context senderContext = sender.getOrCreateContext();
    Promise<Object> result = Promise.promise();
    target.eventBus().request(address, envelope, options)
      .onComplete(ar -> senderContext.runOnContext(v -> {
        if (ar.succeeded()) {
          result.complete(ar.result());
        } else {
          result.fail(ar.cause());
        }
      }));
    return result.future();
  }
}
