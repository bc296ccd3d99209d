package dev.streamtools.bench.impl;

/**
 * The goal of a comparison, from issue 5: streamtools/raw throughput ratio at least {@code minMedian} (median of
 * rounds) and {@code minWorst} (worst round), and optionally a bound on the p99 latency ratio.
 *
 * @param minMedian lowest acceptable median throughput ratio
 * @param minWorst lowest acceptable worst-round throughput ratio, NaN for no bound
 * @param maxP99Ratio highest acceptable median p99 latency ratio, NaN for no bound
 */
public record Goal(double minMedian, double minWorst, double maxP99Ratio) {

  static Goal throughput(double minMedian) {
    return new Goal(minMedian, Double.NaN, Double.NaN);
  }

  static Goal throughput(double minMedian, double minWorst) {
    return new Goal(minMedian, minWorst, Double.NaN);
  }

  /** @return no goal: a comparison run to explain another one */
  static Goal none() {
    return new Goal(Double.NaN, Double.NaN, Double.NaN);
  }

  /** @return whether there is a goal to meet */
  public boolean exists() {
    return !Double.isNaN(minMedian);
  }

  /** @return the goal as the issue writes it */
  public String describe() {
    if (!exists()) {
      return "none (reference)";
    }
    StringBuilder sb = new StringBuilder(">=").append(fmt(minMedian)).append('x');
    if (!Double.isNaN(minWorst)) {
      sb.append(", worst >=").append(fmt(minWorst)).append('x');
    }
    if (!Double.isNaN(maxP99Ratio)) {
      sb.append(", p99 <=").append(fmt(maxP99Ratio)).append('x');
    }
    return sb.toString();
  }

  private static String fmt(double d) {
    return String.format(java.util.Locale.ROOT, "%.2f", d);
  }
}
