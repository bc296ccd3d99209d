package dev.streamtools.bench.impl;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * A sliced comparison alternates the two sides every slice of a round, the side that goes first alternating too,
 * and reports each side's slices of a round as one round.
 */
class HarnessSliceTest {

  private final ByteArrayOutputStream progress = new ByteArrayOutputStream();
  /** Every call to a side's round, in order: "raw 0 100", side, index, duration in ms. */
  private final List<String> calls = new ArrayList<>();
  /** The fake sides' CPU time: each call to a side's round takes 2 ms of it. */
  private long cpuNanos;
  private final LongSupplier cpuClock = () -> cpuNanos;

  @Test
  void slicedPairsAlternateEverySliceAndMergeIntoOneRoundPerSide() {
    ComparisonResult r = run(comparison().inSlices(), "--slices", "3");

    assertThat(calls).containsExactly(
      "raw 0 100", "streamtools 0 100", "streamtools 0 100", "raw 0 100", "raw 0 100", "streamtools 0 100",
      "streamtools 1 100", "raw 1 100", "raw 1 100", "streamtools 1 100", "streamtools 1 100", "raw 1 100");
    assertThat(r.raw()).hasSize(2);
    assertThat(r.streamtools()).hasSize(2);
    RoundResult round = r.raw().get(0);
    assertThat(round.ops()).isEqualTo(300);
    assertThat(round.nanos()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(300));
    assertThat(round.throughput()).isCloseTo(1000, within(0.001));
    // the slices' latencies were 1, 2 and 3 ms, 100 each: the merged round's median is the middle slice's
    assertThat(round.p50Micros()).isCloseTo(2000, within(2.0));
    assertThat(round.p99Micros()).isCloseTo(3000, within(3.0));
    assertThat(round.latency()).as("the run keeps its rounds' percentiles, not their histograms").isNull();
    assertThat(progress.toString(StandardCharsets.UTF_8)).contains("300 ops in 0.30 s over 3 slices");
  }

  @Test
  void eachSideIsChargedTheCpuTimeOfItsOwnSlices() {
    ComparisonResult r = run(comparison().inSlices(), "--slices", "3");

    // 3 slices of 2 ms for 300 operations, whatever the other side's slices in between took
    assertThat(r.raw().get(0).cpuNanos()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(6));
    assertThat(r.streamtools().get(1).cpuMicrosPerOp()).isCloseTo(20.0, within(1e-9));
    assertThat(progress.toString(StandardCharsets.UTF_8)).contains("over 3 slices, CPU 20.00 us/op");
    assertThat(Report.comparisons(List.of(r))).contains("| 20.00 / 20.00 ");
  }

  @Test
  void aRoundWithoutCpuTimeSaysSo() {
    RoundResult measured = new RoundResult(10, 1000, 1, 2, 0, histogram(), 5_000);
    RoundResult unknown = new RoundResult(10, 1000, 1, 2, 0, histogram());

    assertThat(RoundResult.merge(List.of(measured, measured)).cpuMicrosPerOp()).isCloseTo(0.5, within(1e-9));
    assertThat(RoundResult.merge(List.of(measured, unknown)).cpuNanos()).isEqualTo(-1);
    assertThat(Report.cpu(unknown.cpuMicrosPerOp())).isEqualTo("-");
  }

  @Test
  void wholeRoundComparisonsRunOneRoundPerSideAndPair() {
    ComparisonResult r = run(comparison(), "--slices", "3");

    assertThat(calls).containsExactly("raw 0 300", "streamtools 0 300", "streamtools 1 300", "raw 1 300");
    assertThat(r.raw()).hasSize(2);
    assertThat(r.raw().get(0).ops()).isEqualTo(100);
  }

  @Test
  void aSliceFailureEndsThatSideAndLeavesTheOtherMeasured() {
    Side failing = new FakeSide("raw") {
      @Override
      public RoundResult round(int index, long durationNanos) {
        super.round(index, durationNanos);
        throw new IllegalStateException("broker gone");
      }
    };
    Comparison c = new Comparison("fake", "a fake comparison", Goal.none(), failing, new FakeSide("streamtools"),
      true).inSlices();

    ComparisonResult r = run(c, "--slices", "3");

    assertThat(calls).as("the failed side runs no more slices").containsExactly(
      "raw 0 100", "streamtools 0 100", "streamtools 0 100", "streamtools 0 100",
      "streamtools 1 100", "streamtools 1 100", "streamtools 1 100");
    assertThat(r.raw()).isEmpty();
    assertThat(r.streamtools()).hasSize(2);
    assertThat(progress.toString(StandardCharsets.UTF_8)).contains("round 1 raw of fake failed: IllegalStateException: broker gone").doesNotContain(
      "round 1  raw");
  }

  @Test
  void onlyTimedSlicesCanBeMerged() {
    assertThatThrownBy(() -> RoundResult.merge(List.of(new RoundResult(10, 1000, 1, 2, 0))))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("histogram");
    assertThatThrownBy(() -> RoundResult.merge(List.of())).isInstanceOf(IllegalArgumentException.class);
  }

  private static Histogram histogram() {
    Histogram h = new Histogram(3);
    h.recordValueWithCount(1000, 10);
    return h;
  }

  private Comparison comparison() {
    return new Comparison("fake", "a fake comparison", Goal.none(), new FakeSide("raw"), new FakeSide("streamtools"),
      true);
  }

  private ComparisonResult run(Comparison c, String... more) {
    List<String> args = new ArrayList<>(List.of("--warmup", "0", "--warmup-max", "0", "--rounds", "2",
      "--round-seconds", "0.3"));
    args.addAll(List.of(more));
    BenchOptions o = BenchOptions.parse(args.toArray(String[]::new));
    return new Harness(o, new PrintStream(progress, true, StandardCharsets.UTF_8), () -> 0, cpuClock).run(c);
  }

  /** Completes 100 operations per call at 1 op/ms, each slice of a round slower than the one before. */
  private class FakeSide implements Side {
    private final String name;
    private int slice;

    FakeSide(String name) {
      this.name = name;
    }

    @Override
    public String label() {
      return name;
    }

    @Override
    public RoundResult round(int index, long durationNanos) {
      calls.add(name + " " + index + " " + TimeUnit.NANOSECONDS.toMillis(durationNanos));
      cpuNanos += TimeUnit.MILLISECONDS.toNanos(2);
      Histogram h = new Histogram(3);
      h.recordValueWithCount(TimeUnit.MILLISECONDS.toNanos(slice++ % 3 + 1), 100);
      return RoundResult.timed(100, TimeUnit.MILLISECONDS.toNanos(100), h, 0);
    }

    @Override
    public void close() {
    }
  }
}
