package dev.streamtools.bench.impl;

/** One side of a comparison (raw client or streamtools): opened once, then measured in rounds. */
public interface Side {

  /** @return what this side runs, for the report */
  String label();

  /**
   * Connects, declares, starts servers; not measured.
   *
   * @throws Exception when the side cannot run (the comparison reports why)
   */
  default void open() throws Exception {
  }

  /**
   * Runs one measured round, or one slice of a round (see {@link Comparison#inSlices()}).
   *
   * @param index the round number, counting warm-up rounds; every slice of a round has the round's number
   * @param durationNanos how long a timed round (or slice) issues operations; a backlog round, which times the
   *     draining of a backlog, ignores it
   * @return what the round measured; a timed round that measures latency returns its histogram, which the
   *     slices of a round are merged by
   * @throws Exception when the round could not run
   */
  RoundResult round(int index, long durationNanos) throws Exception;

  /**
   * What the side's client library counted about its own work since the previous call (since {@link #open()} on
   * the first): the harness calls it once the warm-up ends, to discard what the warm-up did, and once the measured
   * rounds end, for the report. The Kafka producers say how many records each produce request carried, which
   * decides what the broker spends per record.
   *
   * @return a short phrase, or {@code null} when the side has nothing to say
   */
  default String clientCounters() {
    return null;
  }

  /**
   * Releases what {@link #open()} took.
   *
   * @throws Exception if closing fails
   */
  void close() throws Exception;
}
