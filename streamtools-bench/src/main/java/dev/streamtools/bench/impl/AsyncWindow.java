package dev.streamtools.bench.impl;

import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Keeps {@code window} Future-returning operations outstanding for a fixed time, issuing them from one Vert.x
 * context the way a Vert.x application would, and records each one's latency. Every field is touched only on
 * the context's thread; completions arriving elsewhere hop back to it.
 */
public final class AsyncWindow {

  private static final Logger LOG = LoggerFactory.getLogger(AsyncWindow.class);

  private final Context context;
  private final int window;
  private final Supplier<Future<?>> op;
  private final Histogram latency = new Histogram(3);
  private final CompletableFuture<RoundResult> done = new CompletableFuture<>();
  private Thread thread;
  private long start;
  private long deadline;
  private long last;
  private long ops;
  private long errors;
  private int outstanding;
  private boolean pumping;

  private AsyncWindow(Context context, int window, Supplier<Future<?>> op) {
    this.context = context;
    this.window = window;
    this.op = op;
  }

  /**
   * @param context where operations are issued
   * @param window operations outstanding at once
   * @param durationNanos how long new operations are issued; the round ends when the last one completes
   * @param op starts one operation
   * @return the round's result
   * @throws Exception if the round does not end within the duration plus 60 s
   */
  public static RoundResult run(Context context, int window, long durationNanos, Supplier<Future<?>> op)
    throws Exception {
    AsyncWindow w = new AsyncWindow(context, window, op);
    context.runOnContext(v -> {
      w.thread = Thread.currentThread();
      w.start = System.nanoTime();
      w.deadline = w.start + durationNanos;
      w.pump();
    });
    return w.done.get(TimeUnit.NANOSECONDS.toSeconds(durationNanos) + 60, TimeUnit.SECONDS);
  }

  private void pump() {
    if (pumping) {
      return;
    }
    pumping = true;
    try {
      // The clock read that starts an operation's latency also checks the deadline: two reads per operation on
      // the issuing event loop (start and completion), as ThreadWindow's issuing thread makes. A third, for the
      // deadline alone, was 2-3% of the event loop's samples in a profile of kafka.produce's streamtools side.
      while (outstanding < window) {
        long t0 = System.nanoTime();
        if (t0 - deadline >= 0) {
          break;
        }
        outstanding++;
        startOne(t0);
      }
    } finally {
      pumping = false;
    }
    if (outstanding == 0 && !done.isDone()) {
      done.complete(RoundResult.timed(ops, Math.max(1, last - start), latency, errors));
    }
  }

  private void startOne(long t0) {
    Future<?> f;
    try {
      f = op.get();
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    f.onComplete(ar -> {
      long t1 = System.nanoTime();
      if (Thread.currentThread() == thread) {
        completed(t0, t1, ar);
      } else {
        context.runOnContext(v -> completed(t0, t1, ar));
      }
    });
  }

  private void completed(long t0, long t1, AsyncResult<?> ar) {
    outstanding--;
    last = Math.max(last, t1);
    if (ar.succeeded()) {
      ops++;
      latency.recordValue(Math.max(1, t1 - t0));
    } else if (errors++ == 0) {
      LOG.warn("operation failed (further failures of this round are only counted): {}", ar.cause().toString());
    }
    pump();
  }
}
