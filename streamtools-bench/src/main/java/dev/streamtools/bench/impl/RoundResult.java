package dev.streamtools.bench.impl;

import org.HdrHistogram.Histogram;

import java.util.List;

/**
 * What one round of one side measured.
 *
 * @param ops operations completed (messages sent, consumed, requests answered)
 * @param nanos wall time of the round
 * @param p50Micros median latency in microseconds, NaN when the round measures none (backlog consumption)
 * @param p99Micros 99th percentile latency in microseconds, NaN when none
 * @param errors operations that failed; a round with errors does not count as a valid measurement
 * @param latency every operation's latency in nanoseconds, or {@code null} when the round has none or reports
 *     only its percentiles (wrk)
 * @param cpuNanos the benchmark JVM's CPU time during the round ({@link CpuClock}), or -1 when not measured
 */
public record RoundResult(long ops, long nanos, double p50Micros, double p99Micros, long errors, Histogram latency,
                          long cpuNanos) {

  /** A round that reports its percentiles without a histogram. */
  public RoundResult(long ops, long nanos, double p50Micros, double p99Micros, long errors) {
    this(ops, nanos, p50Micros, p99Micros, errors, null, -1);
  }

  /** A round with its latency histogram, its CPU time not measured. */
  public RoundResult(long ops, long nanos, double p50Micros, double p99Micros, long errors, Histogram latency) {
    this(ops, nanos, p50Micros, p99Micros, errors, latency, -1);
  }

  /**
   * @param ops operations completed
   * @param nanos wall time
   * @param latency every completed operation's latency in nanoseconds
   * @param errors operations that failed
   * @return the round, its percentiles read from {@code latency}
   */
  public static RoundResult timed(long ops, long nanos, Histogram latency, long errors) {
    return new RoundResult(ops, nanos, latency.getValueAtPercentile(50) / 1000.0,
      latency.getValueAtPercentile(99) / 1000.0, errors, latency);
  }

  /**
   * @param slices the slices of one round of one side, each timed
   * @return the round: the slices' operations over their summed wall time, percentiles of their merged latencies,
   *     their summed CPU time (if every slice has one)
   * @throws IllegalArgumentException if there is no slice or a slice has no latency histogram
   */
  public static RoundResult merge(List<RoundResult> slices) {
    if (slices.isEmpty()) {
      throw new IllegalArgumentException("a round needs at least one slice");
    }
    Histogram all = new Histogram(3);
    long ops = 0;
    long nanos = 0;
    long errors = 0;
    long cpu = 0;
    for (RoundResult s : slices) {
      if (s.latency() == null) {
        throw new IllegalArgumentException("only timed slices, which carry their latency histogram, can be merged");
      }
      all.add(s.latency());
      ops += s.ops();
      nanos += s.nanos();
      errors += s.errors();
      cpu = cpu < 0 || s.cpuNanos() < 0 ? -1 : cpu + s.cpuNanos();
    }
    return timed(ops, nanos, all, errors).withCpuNanos(cpu);
  }

  /**
   * @param cpuNanos the benchmark JVM's CPU time during the round, or -1
   * @return this round with that CPU time
   */
  public RoundResult withCpuNanos(long cpuNanos) {
    return new RoundResult(ops, nanos, p50Micros, p99Micros, errors, latency, cpuNanos);
  }

  /**
   * @return this round without its latency histogram (a few hundred KB at nanosecond resolution), once its
   *     percentiles are all the report needs
   */
  public RoundResult withoutHistogram() {
    return latency == null ? this : new RoundResult(ops, nanos, p50Micros, p99Micros, errors, null, cpuNanos);
  }

  /** @return the benchmark JVM's CPU time per operation in microseconds, or NaN when not measured */
  public double cpuMicrosPerOp() {
    return cpuNanos < 0 || ops <= 0 ? Double.NaN : cpuNanos / 1000.0 / ops;
  }

  /** @return operations per second */
  public double throughput() {
    return nanos <= 0 ? 0 : ops * 1e9 / nanos;
  }
}
