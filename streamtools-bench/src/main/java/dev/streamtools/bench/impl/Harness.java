package dev.streamtools.bench.impl;

import java.io.PrintStream;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Runs a comparison: opens both sides, runs warm-up rounds, then measured rounds alternating the two sides
 * (raw first in even pairs, streamtools first in odd pairs, so a drift of the machine or broker during the run
 * weighs on both alike), then closes both. A sliced comparison ({@link Comparison#inSlices()}) alternates the sides
 * every slice of a round, not every round. Warm-up goes on past {@code --warmup} pairs, up to {@code --warmup-max},
 * while the JIT is still compiling: on two cores a compiler thread takes CPU from whichever side runs, and a
 * fresh JVM compiled for 2-4 s of each of a round-trip comparison's first 3-s rounds.
 */
public final class Harness {

  private static final CompilationMXBean JIT = ManagementFactory.getCompilationMXBean();

  private final BenchOptions options;
  private final PrintStream progress;
  private final LongSupplier jitMillis;
  private final LongSupplier cpuNanos;

  /**
   * @param options the run's options
   * @param progress where round-by-round progress is printed
   */
  public Harness(BenchOptions options, PrintStream progress) {
    this(options, progress, Harness::compilerMillis, new CpuClock()::nanos);
  }

  /**
   * @param jitMillis the JIT's accumulated compile time, in ms (a test's own clock)
   * @param cpuNanos the JVM's CPU time but the JIT's, in ns, or -1 when unknown ({@link CpuClock}; a test's own)
   */
  Harness(BenchOptions options, PrintStream progress, LongSupplier jitMillis, LongSupplier cpuNanos) {
    this.options = options;
    this.progress = progress;
    this.jitMillis = jitMillis;
    this.cpuNanos = cpuNanos;
  }

  /**
   * @param c the comparison
   * @return its result; a side that failed to open or run is reported in the result, not thrown
   */
  public ComparisonResult run(Comparison c) {
    ComparisonResult r = new ComparisonResult(c);
    progress.printf("== %s (%s)%n   raw: %s%n   streamtools: %s%n", c.name(), c.settings(), r.rawLabel,
      r.streamtoolsLabel);
    r.rawFailure = options.side.equals("streamtools") ? "left out (--side streamtools)" : open(c.raw());
    r.streamtoolsFailure = options.side.equals("raw") ? "left out (--side raw)" : open(c.streamtools());
    if (r.rawFailure != null) {
      progress.println("   raw side not run: " + r.rawFailure);
    }
    if (r.streamtoolsFailure != null) {
      progress.println("   streamtools side not run: " + r.streamtoolsFailure);
    }
    int index = 0;
    for (int i = 0; i < options.warmupMax; i++) {
      long t0 = System.nanoTime();
      long jit0 = jitMillis.getAsLong();
      pair(c, r, "warm-up", index, true, false);
      index++; // before any break: a side names what a round creates (a Kafka group) by its index
      r.warmupRounds++;
      long jit = jitMillis.getAsLong() - jit0;
      long pairMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      if (r.rawFailure != null && r.streamtoolsFailure != null) {
        break; // neither side runs: nothing to warm up
      }
      if (i + 1 < options.warmup) {
        continue;
      }
      if (jit <= BenchOptions.JIT_QUIET_SHARE * pairMillis) {
        break;
      }
      if (i + 1 < options.warmupMax) {
        progress.printf(Locale.ROOT, "   the JIT compiled for %d ms of that warm-up pair's %d ms: one more%n", jit,
          pairMillis);
      }
    }
    // what the warm-up did is not what the report says
    counters(c.raw(), r.rawFailure);
    counters(c.streamtools(), r.streamtoolsFailure);
    int rounds = c.rounds(options.rounds);
    for (int i = 0; i < rounds; i++, index++) {
      pair(c, r, "round " + (i + 1), index, i % 2 == 0, true);
    }
    r.rawCounters = counters(c.raw(), r.rawFailure);
    r.streamtoolsCounters = counters(c.streamtools(), r.streamtoolsFailure);
    if (r.clientCounters() != null) {
      progress.printf("   the clients' counters over the measured rounds: %s%n", r.clientCounters());
    }
    if (!options.side.equals("streamtools")) {
      close(c.raw());
    }
    if (!options.side.equals("raw")) {
      close(c.streamtools());
    }
    if (r.complete()) {
      progress.printf(Locale.ROOT, "   => ratio streamtools/raw: median %.3f, worst %.3f, p99 ratio %.2f%s%n",
        r.medianRatio(), r.worstRatio(), r.p99Ratio(), r.errors() > 0 ? ", " + r.errors() + " FAILED OPERATIONS" : "");
    }
    return r;
  }

  /** @return {@link Side#clientCounters()} of a side that runs, or null (also when asking fails) */
  private String counters(Side side, String failure) {
    if (failure != null) {
      return null;
    }
    try {
      return side.clientCounters();
    } catch (RuntimeException e) {
      return "unknown (" + describe(e) + ")";
    }
  }

  private String open(Side side) {
    try {
      side.open();
      return null;
    } catch (Exception e) {
      return describe(e);
    } catch (LinkageError e) {
      return "cannot load its classes: " + e;
    }
  }

  /**
   * Runs a round of each side, the raw side's first or streamtools'; in a sliced comparison, {@code --slices}
   * slices of each, alternating (the side that goes first alternates too), merged into one round per side.
   */
  private void pair(Comparison c, ComparisonResult r, String what, int index, boolean rawFirst, boolean measured) {
    int slices = c.slices(options.slices, options.roundNanos());
    long sliceNanos = options.roundNanos() / slices;
    SideRound raw = new SideRound(c.raw(), "raw", r.rawFailure);
    SideRound streamtools = new SideRound(c.streamtools(), "streamtools", r.streamtoolsFailure);
    for (int s = 0; s < slices; s++) {
      boolean rawNow = (s % 2 == 0) == rawFirst;
      (rawNow ? raw : streamtools).slice(c, what, index, sliceNanos);
      (rawNow ? streamtools : raw).slice(c, what, index, sliceNanos);
    }
    for (SideRound side : rawFirst ? List.of(raw, streamtools) : List.of(streamtools, raw)) {
      side.report(what, measured ? r : null);
    }
    r.rawFailure = raw.failure;
    r.streamtoolsFailure = streamtools.failure;
  }

  /** One side's slices of one round, and the first failure among them. */
  private final class SideRound {
    private final Side side;
    private final String which;
    private final List<RoundResult> slices = new ArrayList<>();
    private String failure;
    private long jit;

    SideRound(Side side, String which, String failure) {
      this.side = side;
      this.which = which;
      this.failure = failure;
    }

    void slice(Comparison c, String what, int index, long nanos) {
      if (failure != null) {
        return;
      }
      try {
        long jitBefore = jitMillis.getAsLong();
        long cpuBefore = cpuNanos.getAsLong();
        RoundResult slice = side.round(index, nanos);
        long cpuAfter = cpuNanos.getAsLong();
        jit += jitMillis.getAsLong() - jitBefore;
        slices.add(slice.withCpuNanos(cpuBefore < 0 || cpuAfter < 0 ? -1 : cpuAfter - cpuBefore));
      } catch (Exception e) {
        progress.printf("   %s %s of %s failed: %s%n", what, which, c.name(), describe(e));
        failure = what + " failed: " + describe(e);
      }
    }

    /** Prints the round and adds it to {@code into} (when measured), unless one of its slices failed. */
    void report(String what, ComparisonResult into) {
      if (failure != null) {
        return;
      }
      RoundResult rr = slices.size() == 1 ? slices.get(0) : RoundResult.merge(slices);
      progress.printf(Locale.ROOT,
        "   %-8s %-11s %12s ops/s  p50 %9s  p99 %9s  (%d ops in %.2f s%s, CPU %s us/op, JIT %d ms%s)%n",
        what, which, Report.count(rr.throughput()), Report.micros(rr.p50Micros()), Report.micros(rr.p99Micros()),
        rr.ops(), rr.nanos() / 1e9, slices.size() > 1 ? " over " + slices.size() + " slices" : "",
        Report.cpu(rr.cpuMicrosPerOp()), jit, rr.errors() > 0 ? ", " + rr.errors() + " failed" : "");
      if (into != null) {
        // the run keeps every round to the end: percentiles only, or the histograms weigh on the stall scenarios' heap
        ("raw".equals(which) ? into.raw : into.streamtools).add(rr.withoutHistogram());
      }
    }
  }

  /** @return the JIT compilers' accumulated time, or 0 where the JVM does not report it */
  private static long compilerMillis() {
    return JIT != null && JIT.isCompilationTimeMonitoringSupported() ? JIT.getTotalCompilationTime() : 0;
  }

  private void close(Side side) {
    try {
      side.close();
    } catch (Exception e) {
      progress.println("   closing " + side.label() + " failed: " + describe(e));
    }
  }

  static String describe(Throwable e) {
    Throwable t = e;
    while ((t instanceof java.util.concurrent.ExecutionException || t instanceof java.util.concurrent.CompletionException)
      && t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage() != null ? t.getClass().getSimpleName() + ": " + t.getMessage() : t.toString();
  }
}
