package dev.streamtools.bench;

import dev.streamtools.bench.impl.Bench;
import dev.streamtools.bench.impl.BenchOptions;
import dev.streamtools.bench.impl.ComparisonResult;
import dev.streamtools.bench.impl.RoundResult;
import dev.streamtools.bench.impl.StallResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Proves the benchmarks start and produce their table: tiny rounds of the in-process comparisons (memory transport
 * and the HTTP round trip, which need no broker and no wrk) and the memory stall scenario. Measures nothing: the
 * full benchmark is scripts/bench.sh, never part of the test run.
 */
class BenchSmokeTest {

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void memoryAndHttpComparisonsAndTheMemoryStallRunAndReport() {
    BenchOptions options = BenchOptions.parse("--only", "memory,http.rtt,stall.memory", "--skip",
      "memory.throughput.raw-vs-raw", "--rounds", "2", "--warmup",
      "0", "--warmup-max", "0", "--round-seconds", "0.3", "--stall-seconds", "0.5");
    ByteArrayOutputStream progress = new ByteArrayOutputStream();
    // echoed to the test's output too: when a run fails, the report shows how far it got
    OutputStream progressAndStdout = new OutputStream() {
      @Override
      public void write(int b) {
        progress.write(b);
        System.out.write(b);
      }

      @Override
      public void write(byte[] b, int off, int len) {
        progress.write(b, off, len);
        System.out.write(b, off, len);
      }
    };

    Bench.Outcome outcome = new Bench(options, new PrintStream(progressAndStdout, true, StandardCharsets.UTF_8)).run();

    assertThat(outcome.comparisons()).extracting(c -> c.comparison().name())
      .containsExactly("memory.throughput", "memory.rtt", "http.rtt", "http.rtt.bare");
    for (ComparisonResult c : outcome.comparisons()) {
      assertThat(c.rawFailure()).as(c.comparison().name() + " raw").isNull();
      assertThat(c.streamtoolsFailure()).as(c.comparison().name() + " streamtools").isNull();
      // memory.throughput runs more rounds than --rounds asks (Comparison.minRounds)
      assertThat(c.raw()).hasSize(c.comparison().rounds(2));
      assertThat(c.streamtools()).hasSize(c.comparison().rounds(2));
      for (RoundResult r : c.raw()) {
        assertThat(r.ops()).isPositive();
        assertThat(r.errors()).isZero();
        assertThat(r.p99Micros()).isGreaterThanOrEqualTo(r.p50Micros()).isPositive();
      }
      for (RoundResult r : c.streamtools()) {
        assertThat(r.ops()).isPositive();
        assertThat(r.errors()).isZero();
      }
      assertThat(c.medianRatio()).isPositive().isFinite();
      assertThat(c.worstRatio()).isLessThanOrEqualTo(c.medianRatio());
    }
    assertThat(outcome.allRan()).isTrue();

    assertThat(outcome.stalls()).hasSize(1);
    StallResult stall = outcome.stalls().get(0);
    assertThat(stall.name()).isEqualTo("stall.memory");
    assertThat(stall.heapBeforeMb()).isPositive();
    assertThat(stall.maxInHandler()).isPositive().isLessThanOrEqualTo(stall.maxInFlight());
    assertThat(stall.buffered()).isLessThanOrEqualTo(stall.maxInFlight());

    assertThat(outcome.markdown())
      .contains("| comparison", "| memory.throughput", "| memory.rtt", "| http.rtt", "| stall.memory", "cores");
    assertThat(progress.toString(StandardCharsets.UTF_8)).contains("round 2");
  }

  @Test
  void optionsSelectByPrefixAndRejectUnknownOnes() {
    BenchOptions o = BenchOptions.parse("--only", "kafka,http.wrk", "--skip", "kafka.rtt");
    assertThat(o.selected("kafka.produce.100B")).isTrue();
    assertThat(o.selected("kafka.rtt")).isFalse();
    assertThat(o.selected("http.wrk")).isTrue();
    assertThat(o.selected("http.rtt")).isFalse();
    assertThat(o.selected("kafkax.y")).isFalse();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> BenchOptions.parse("--nope", "1"))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown option --nope");
  }
}
