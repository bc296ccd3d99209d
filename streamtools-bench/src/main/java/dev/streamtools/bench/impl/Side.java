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
   * Runs one measured round.
   *
   * @param index the round number, counting warm-up rounds
   * @return what the round measured
   * @throws Exception when the round could not run
   */
  RoundResult round(int index) throws Exception;

  /**
   * Releases what {@link #open()} took.
   *
   * @throws Exception if closing fails
   */
  void close() throws Exception;
}
