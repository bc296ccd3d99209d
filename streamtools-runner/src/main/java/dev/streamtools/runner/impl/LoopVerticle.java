package dev.streamtools.runner.impl;

import dev.streamtools.ConsumerInstance;
import dev.streamtools.ConsumerLoop;
import dev.streamtools.Route;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * One consumer loop as a verticle, so that Vert.x gives each queue its own event-loop context (loops
 * spread over the cores) and undeploying it closes the loop.
 */
final class LoopVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(LoopVerticle.class);

  private final ConsumerInstance instance;
  private final Route route;
  private final long closeGraceMillis;
  private volatile ConsumerLoop loop;
  private volatile boolean started;
  private volatile boolean closedCleanly = true;

  LoopVerticle(ConsumerInstance instance, Route route, long closeGraceMillis) {
    this.instance = instance;
    this.route = route;
    this.closeGraceMillis = closeGraceMillis;
  }

  @Override
  public Future<?> start() {
    ConsumerLoop l = instance.create(vertx);
    loop = l;
    return l.start(route)
      .onSuccess(v -> started = true)
      .recover(e -> closeQuietly(l).transform(x -> Future.failedFuture(e)));
  }

  /**
   * Closes the loop: intake stops at once, in-flight messages get the route's drain timeout. The loop
   * bounds itself; the extra grace only keeps a misbehaving transport from hanging the whole shutdown.
   */
  @Override
  public Future<?> stop() {
    ConsumerLoop l = loop;
    if (l == null) {
      return Future.succeededFuture();
    }
    long bound = route.options().drainTimeout().toMillis() + closeGraceMillis;
    Future<Void> closing;
    try {
      closing = l.close();
    } catch (RuntimeException e) {
      closing = Future.failedFuture(e);
    }
    return closing.timeout(bound, TimeUnit.MILLISECONDS).recover(e -> {
      closedCleanly = false;
      LOG.warn("[{} queue '{}'] consumer loop did not close within {} ms ({}); moving on, unfinished messages are "
        + "left to the transport to redeliver", instance.transport(), instance.queue(), bound, e.toString());
      return Future.succeededFuture();
    });
  }

  private Future<Void> closeQuietly(ConsumerLoop l) {
    try {
      return l.close().recover(e -> Future.succeededFuture());
    } catch (RuntimeException e) {
      return Future.succeededFuture();
    }
  }

  boolean isReady() {
    ConsumerLoop l = loop;
    return l != null && l.isReady();
  }

  /** @return {@code false} if the loop's close failed or outlasted its bound */
  boolean closedCleanly() {
    return closedCleanly;
  }

  boolean isStarted() {
    return started;
  }

  String transport() {
    return instance.transport();
  }
}
