package dev.streamtools.bench.impl;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Warm-up runs {@code --warmup} pairs, then more while the JIT is still compiling, up to {@code --warmup-max}:
 * the JIT's clock here is the test's, advanced by the raw side's rounds as a script says.
 */
class HarnessWarmupTest {

  private final AtomicLong jitMillis = new AtomicLong();
  private final ByteArrayOutputStream progress = new ByteArrayOutputStream();
  private final List<Integer> rawIndexes = new ArrayList<>();

  @Test
  void warmUpGoesOnWhileTheJitCompilesThenMeasures() {
    // pairs 1-3 compile for a second each, then the JIT is quiet
    ComparisonResult r = run(options(2, 6), 1000, 1000, 1000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    assertThat(r.warmupRounds()).isEqualTo(4);
    assertThat(r.raw()).hasSize(5);
    assertThat(r.streamtools()).hasSize(5);
    assertThat(rawIndexes).as("each round its own index (a Kafka side names its group by it)")
      .containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8);
    assertThat(progress.toString(StandardCharsets.UTF_8)).contains("the JIT compiled for 1000 ms of that warm-up pair");
  }

  @Test
  void warmUpStopsAtItsMinimumWhenTheJitIsQuiet() {
    ComparisonResult r = run(options(2, 6), 0, 0, 0, 0, 0, 0, 0, 0);

    assertThat(r.warmupRounds()).isEqualTo(2);
    assertThat(r.raw()).hasSize(5);
  }

  @Test
  void warmUpStopsAtItsMaximumWhileTheJitStillCompiles() {
    long[] busy = new long[20];
    Arrays.fill(busy, 500);
    ComparisonResult r = run(options(2, 6), busy);

    assertThat(r.warmupRounds()).isEqualTo(6);
    assertThat(r.raw()).hasSize(5);
    assertThat(r.streamtools()).hasSize(5);
  }

  @Test
  void noWarmUpWhenBothBoundsAreZero() {
    ComparisonResult r = run(options(0, 0), 1000, 1000, 1000, 1000, 1000);

    assertThat(r.warmupRounds()).isZero();
    assertThat(r.raw()).hasSize(5);
  }

  @Test
  void theClientsCountersCoverTheMeasuredRoundsOnly() {
    // counts the rounds since it was last asked, as a Kafka producer's counters count its requests
    AtomicInteger roundsSinceAsked = new AtomicInteger();
    Side raw = new FakeSide(index -> roundsSinceAsked.incrementAndGet()) {
      @Override
      public String clientCounters() {
        return roundsSinceAsked.getAndSet(0) + " rounds";
      }
    };
    Comparison c = new Comparison("fake", "a fake comparison", Goal.none(), raw, new FakeSide(index -> { }), false);
    ComparisonResult r = new Harness(options(3, 3), new PrintStream(progress, true, StandardCharsets.UTF_8),
      jitMillis::get, () -> -1).run(c);

    assertThat(r.rawCounters()).isEqualTo("5 rounds");
    assertThat(r.streamtoolsCounters()).isNull();
    assertThat(progress.toString(StandardCharsets.UTF_8))
      .contains("the clients' counters over the measured rounds: raw 5 rounds\n");
    assertThat(Report.settings(List.of(r))).contains("The clients' counters over the measured rounds: raw 5 rounds.");
  }

  private static BenchOptions options(int warmup, int warmupMax) {
    return BenchOptions.parse("--warmup", Integer.toString(warmup), "--warmup-max", Integer.toString(warmupMax),
      "--rounds", "5");
  }

  /** @param compileMillis what the JIT compiles during each of the raw side's rounds, in order */
  private ComparisonResult run(BenchOptions options, long... compileMillis) {
    AtomicInteger rawRounds = new AtomicInteger();
    Side raw = new FakeSide(index -> {
      rawIndexes.add(index);
      int i = rawRounds.getAndIncrement();
      jitMillis.addAndGet(i < compileMillis.length ? compileMillis[i] : 0);
    });
    Side streamtools = new FakeSide(index -> { });
    Comparison c = new Comparison("fake", "a fake comparison", Goal.none(), raw, streamtools, false);
    return new Harness(options, new PrintStream(progress, true, StandardCharsets.UTF_8), jitMillis::get, () -> -1)
      .run(c);
  }

  private static class FakeSide implements Side {
    private final IntConsumer duringRound;

    FakeSide(IntConsumer duringRound) {
      this.duringRound = duringRound;
    }

    @Override
    public String label() {
      return "fake";
    }

    @Override
    public RoundResult round(int index, long durationNanos) {
      duringRound.accept(index);
      return new RoundResult(1000, 1_000_000, 10, 20, 0);
    }

    @Override
    public void close() {
    }
  }
}
