package dev.streamtools.bench.impl;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.ToDoubleFunction;

/** The measured rounds of one comparison and the statistics the table shows. */
public final class ComparisonResult {

  final Comparison comparison;
  final String rawLabel;
  final String streamtoolsLabel;
  final List<RoundResult> raw = new ArrayList<>();
  final List<RoundResult> streamtools = new ArrayList<>();
  String rawFailure;
  String streamtoolsFailure;
  int warmupRounds;
  String rawCounters;
  String streamtoolsCounters;

  ComparisonResult(Comparison comparison) {
    this.comparison = comparison;
    this.rawLabel = comparison.raw().label();
    this.streamtoolsLabel = comparison.streamtools().label();
  }

  /** @return the comparison */
  public Comparison comparison() {
    return comparison;
  }

  /** @return the warm-up rounds each side ran before the measured ones */
  public int warmupRounds() {
    return warmupRounds;
  }

  /** @return the raw side's measured rounds */
  public List<RoundResult> raw() {
    return raw;
  }

  /** @return the streamtools side's measured rounds */
  public List<RoundResult> streamtools() {
    return streamtools;
  }

  /** @return why the raw side did not run, or {@code null} */
  public String rawFailure() {
    return rawFailure;
  }

  /** @return why the streamtools side did not run, or {@code null} */
  public String streamtoolsFailure() {
    return streamtoolsFailure;
  }

  /** @return what the raw side's client counted over the measured rounds ({@link Side#clientCounters()}) */
  public String rawCounters() {
    return rawCounters;
  }

  /** @return what the streamtools side's client counted over the measured rounds */
  public String streamtoolsCounters() {
    return streamtoolsCounters;
  }

  /**
   * @return what the clients counted over the measured rounds, as "raw ...; streamtools ...", leaving out a side
   *     that counted nothing; {@code null} when neither did
   */
  public String clientCounters() {
    if (rawCounters == null && streamtoolsCounters == null) {
      return null;
    }
    return (rawCounters != null ? "raw " + rawCounters : "")
      + (rawCounters != null && streamtoolsCounters != null ? "; " : "")
      + (streamtoolsCounters != null ? "streamtools " + streamtoolsCounters : "");
  }

  /** @return whether both sides have rounds to compare */
  public boolean complete() {
    return !raw.isEmpty() && raw.size() == streamtools.size();
  }

  /** @return streamtools/raw throughput of each pair of rounds */
  public double[] ratios() {
    int n = Math.min(raw.size(), streamtools.size());
    double[] r = new double[n];
    for (int i = 0; i < n; i++) {
      r[i] = streamtools.get(i).throughput() / raw.get(i).throughput();
    }
    return r;
  }

  /** @return median streamtools/raw throughput ratio */
  public double medianRatio() {
    return median(ratios());
  }

  /** @return the worst (lowest) pair's throughput ratio */
  public double worstRatio() {
    return Arrays.stream(ratios()).min().orElse(Double.NaN);
  }

  /** @return median over pairs of the streamtools/raw p99 latency ratio */
  public double p99Ratio() {
    int n = Math.min(raw.size(), streamtools.size());
    double[] r = new double[n];
    for (int i = 0; i < n; i++) {
      r[i] = streamtools.get(i).p99Micros() / raw.get(i).p99Micros();
    }
    return median(r);
  }

  /** @return failed operations over all measured rounds of both sides */
  public long errors() {
    return raw.stream().mapToLong(RoundResult::errors).sum()
      + streamtools.stream().mapToLong(RoundResult::errors).sum();
  }

  /** @return whether the goal is met (with no failed operation) */
  public boolean goalMet() {
    if (!complete() || errors() > 0) {
      return false;
    }
    Goal g = comparison.goal();
    return medianRatio() >= g.minMedian()
      && (Double.isNaN(g.minWorst()) || worstRatio() >= g.minWorst())
      && (Double.isNaN(g.maxP99Ratio()) || p99Ratio() <= g.maxP99Ratio());
  }

  static double medianOf(List<RoundResult> rounds, ToDoubleFunction<RoundResult> f) {
    return median(rounds.stream().mapToDouble(f).toArray());
  }

  static double median(double[] values) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] v = values.clone();
    Arrays.sort(v);
    int m = v.length / 2;
    return v.length % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
  }
}
