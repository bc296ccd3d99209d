package dev.streamtools.bench.impl;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Small blocking helpers for the benchmark's main thread. */
public final class Vx {

  private Vx() {
  }

  /**
   * A new event-loop context on the next event loop: deployed verticles are spread over the loops, while
   * {@code getOrCreateContext()} from one foreign thread always lands on the same loop. Both sides of a comparison
   * use the same contexts, so neither gets a loop the other does not.
   *
   * @param vertx the Vert.x instance
   * @return the context
   * @throws Exception if the deployment fails
   */
  public static Context newContext(Vertx vertx) throws Exception {
    CompletableFuture<Context> cf = new CompletableFuture<>();
    await(vertx.deployVerticle(new VerticleBase() {
      @Override
      public Future<?> start() {
        cf.complete(context);
        return Future.succeededFuture();
      }
    }));
    return cf.get(30, TimeUnit.SECONDS);
  }

  /**
   * Runs {@code action} on {@code context} and waits for the Future it returns.
   *
   * @param context where to run
   * @param action what to run
   * @param <T> result type
   * @return the result
   * @throws Exception if the action fails or takes more than 120 s
   */
  public static <T> T on(Context context, Supplier<Future<T>> action) throws Exception {
    CompletableFuture<T> cf = new CompletableFuture<>();
    context.runOnContext(v -> {
      Future<T> f;
      try {
        f = action.get();
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      f.onComplete(ar -> {
        if (ar.succeeded()) {
          cf.complete(ar.result());
        } else {
          cf.completeExceptionally(ar.cause());
        }
      });
    });
    return cf.get(120, TimeUnit.SECONDS);
  }

  /**
   * @param transport a transport name
   * @throws IllegalStateException if its module is not on the classpath (or has no producer and consumer loop yet)
   */
  public static void requireTransport(String transport) {
    if (!dev.streamtools.Transports.PRODUCERS.containsKey(transport)
      || !dev.streamtools.Transports.CONSUMER_LOOPS.containsKey(transport)) {
      throw new IllegalStateException("streamtools transport '" + transport + "' is not on the classpath (its module "
        + "streamtools-" + transport + " has no transport yet on this branch)");
    }
  }

  /**
   * @param f a Future
   * @param <T> result type
   * @return its result
   * @throws Exception if it fails or takes more than 120 s
   */
  public static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
  }
}
