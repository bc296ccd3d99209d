package dev.streamtools.bench.impl;

import org.HdrHistogram.Recorder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The raw clients' way of keeping {@code window} operations outstanding: the calling thread issues operations
 * while a semaphore has permits, and each operation's callback (on the client's own I/O thread) releases one.
 */
public final class ThreadWindow {

  private static final Logger LOG = LoggerFactory.getLogger(ThreadWindow.class);

  /** Starts one operation, which must call {@code done} exactly once, with {@code null} on success. */
  @FunctionalInterface
  public interface Op {
    /**
     * @param done called once when the operation completed, with its failure or {@code null}
     * @throws Exception if the operation could not be started
     */
    void start(Consumer<Throwable> done) throws Exception;
  }

  private ThreadWindow() {
  }

  /**
   * @param window operations outstanding at once
   * @param durationNanos how long new operations are issued
   * @param op starts one operation
   * @return the round's result
   * @throws Exception if an operation cannot be started or outstanding ones do not finish within 60 s
   */
  public static RoundResult run(int window, long durationNanos, Op op) throws Exception {
    Semaphore permits = new Semaphore(window);
    Recorder recorder = new Recorder(3);
    AtomicLong ops = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    AtomicLong last = new AtomicLong();
    long start = System.nanoTime();
    long deadline = start + durationNanos;
    while (System.nanoTime() < deadline) {
      if (!permits.tryAcquire(100, TimeUnit.MILLISECONDS)) {
        continue;
      }
      long t0 = System.nanoTime();
      op.start(err -> {
        long t1 = System.nanoTime();
        last.accumulateAndGet(t1, Math::max);
        if (err == null) {
          ops.incrementAndGet();
          recorder.recordValue(Math.max(1, t1 - t0));
        } else if (errors.getAndIncrement() == 0) {
          LOG.warn("operation failed (further failures of this round are only counted): {}", err.toString());
        }
        permits.release();
      });
    }
    if (!permits.tryAcquire(window, 60, TimeUnit.SECONDS)) {
      throw new IllegalStateException((window - permits.availablePermits()) + " operations still outstanding 60 s "
        + "after the round ended");
    }
    return RoundResult.timed(ops.get(), Math.max(1, last.get() - start), recorder.getIntervalHistogram(),
      errors.get());
  }
}
