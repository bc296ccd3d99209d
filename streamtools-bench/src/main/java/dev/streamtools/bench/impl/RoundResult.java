package dev.streamtools.bench.impl;

/**
 * What one round of one side measured.
 *
 * @param ops operations completed (messages sent, consumed, requests answered)
 * @param nanos wall time of the round
 * @param p50Micros median latency in microseconds, NaN when the round measures none (backlog consumption)
 * @param p99Micros 99th percentile latency in microseconds, NaN when none
 * @param errors operations that failed; a round with errors does not count as a valid measurement
 */
public record RoundResult(long ops, long nanos, double p50Micros, double p99Micros, long errors) {

  /** @return operations per second */
  public double throughput() {
    return nanos <= 0 ? 0 : ops * 1e9 / nanos;
  }
}
