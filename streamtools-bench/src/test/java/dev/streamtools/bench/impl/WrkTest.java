package dev.streamtools.bench.impl;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WrkTest {

  private static String output(long requests, long non2xx, String latencies) {
    return "Running 1s test @ http://127.0.0.1:8080/orders\n"
      + "  1 threads and 32 connections\n"
      + "BENCH requests=" + requests + " duration_us=1000000 non2xx=" + non2xx
      + " connect=0 read=0 write=0 timeout=0\n"
      + "BENCH_LATENCY" + latencies + "\n"
      + "Requests/sec:  60000.00\n";
  }

  @Test
  void aRoundCarriesEveryLatencyWrkRecordedSoThatSlicesMergeIntoExactPercentiles() throws IOException {
    // first slice: 98 requests at 100 us, 2 at 5 ms; second: 100 at 300 us
    RoundResult first = Wrk.parse(output(100, 0, " 100:98 5000:2"), 0);
    RoundResult second = Wrk.parse(output(100, 0, " 300:100"), 0);

    assertThat(first.ops()).isEqualTo(100);
    assertThat(first.nanos()).isEqualTo(TimeUnit.SECONDS.toNanos(1));
    assertThat(first.p50Micros()).isBetween(99.9, 100.1);
    assertThat(first.latency()).isNotNull();

    RoundResult both = RoundResult.merge(List.of(first, second));
    assertThat(both.ops()).isEqualTo(200);
    assertThat(both.throughput()).isEqualTo(100.0);
    // the merged median is the 100th of 200 latencies: the second slice's 300 us, which no slice's p50 is alone
    assertThat(both.p50Micros()).isBetween(299.9, 300.1);
    assertThat(both.p99Micros()).isBetween(299.9, 300.1);
  }

  @Test
  void non2xxAnswersAreErrorsNotOperations() throws IOException {
    RoundResult r = Wrk.parse(output(100, 3, " 100:100"), 0);
    assertThat(r.ops()).isEqualTo(97);
    assertThat(r.errors()).isEqualTo(3);
  }

  @Test
  void aSliceInWhichNoRequestWasAnsweredStillMergesWithTheOthers() throws IOException {
    RoundResult stalled = Wrk.parse(output(0, 0, ""), 0);
    RoundResult answered = Wrk.parse(output(100, 0, " 300:100"), 0);

    RoundResult both = RoundResult.merge(List.of(stalled, answered));
    assertThat(both.ops()).isEqualTo(100);
    assertThat(both.nanos()).isEqualTo(TimeUnit.SECONDS.toNanos(2));
    assertThat(both.p50Micros()).isBetween(299.9, 300.1);
  }

  @Test
  void outputWithoutTheLatenciesIsAnError() {
    // a slice without them could not merge with the others
    assertThatThrownBy(() -> Wrk.parse(output(100, 0, "").replace("BENCH_LATENCY\n", ""), 0))
      .isInstanceOf(IOException.class).hasMessageContaining("wrk exited 0 without its latencies");
  }

  @Test
  void outputWithoutAResultIsAnError() {
    assertThatThrownBy(() -> Wrk.parse("unable to connect to 127.0.0.1:1 Connection refused\n", 1))
      .isInstanceOf(IOException.class).hasMessageContaining("wrk exited 1 without a result")
      .hasMessageContaining("Connection refused");
  }

  @Test
  void aComparisonOfOneSecondSlicesCutsAThreeSecondRoundIntoThree() {
    Comparison whole = new Comparison("c", "s", Goal.none(), null, null, true);
    long round = TimeUnit.SECONDS.toNanos(3);
    assertThat(whole.slices(6, round)).isEqualTo(1);
    assertThat(whole.inSlices().slices(6, round)).isEqualTo(6);
    assertThat(whole.inSlices(TimeUnit.SECONDS.toNanos(1)).slices(6, round)).isEqualTo(3);
    assertThat(whole.inSlices(TimeUnit.SECONDS.toNanos(1)).slices(2, round)).isEqualTo(2);
    assertThat(whole.inSlices(TimeUnit.SECONDS.toNanos(5)).slices(6, round)).isEqualTo(1);
  }
}
