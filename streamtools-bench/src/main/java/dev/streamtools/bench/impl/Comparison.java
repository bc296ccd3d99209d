package dev.streamtools.bench.impl;

/**
 * One row of the table: a raw side and a streamtools side measured in alternating rounds.
 *
 * @param name short name, selectable with {@code --only}
 * @param settings what both sides share (sizes, windows, client settings), for the report
 * @param goal the goal
 * @param raw the raw client side
 * @param streamtools the streamtools side
 * @param latency whether the sides measure a per-operation latency
 * @param minRounds measured rounds per side it runs at least, whatever {@code --rounds} says (0: {@code --rounds}):
 *     for a comparison whose single rounds vary so much that the median of five pairs is left to chance
 * @param sliced whether each pair of rounds runs as {@code --slices} alternating slices of each side (see
 *     {@link #inSlices()})
 * @param minSliceNanos the shortest slice its sides can run (0: any); a round is then cut into fewer slices
 */
public record Comparison(String name, String settings, Goal goal, Side raw, Side streamtools, boolean latency,
                         int minRounds, boolean sliced, long minSliceNanos) {

  /** A comparison measured over the run's {@code --rounds}, in whole rounds. */
  public Comparison(String name, String settings, Goal goal, Side raw, Side streamtools, boolean latency) {
    this(name, settings, goal, raw, streamtools, latency, 0, false, 0);
  }

  /** A comparison measured over at least {@code minRounds} rounds, in whole rounds. */
  public Comparison(String name, String settings, Goal goal, Side raw, Side streamtools, boolean latency,
                    int minRounds) {
    this(name, settings, goal, raw, streamtools, latency, minRounds, false, 0);
  }

  /**
   * The same comparison with each pair of rounds cut into slices: the two sides alternate every slice (raw
   * first in every other slice), and a side's round is its slices merged. For a timed load whose rounds can be
   * cut anywhere (sends, round trips, wrk's load): on this machine the broker or the VM changes pace for seconds
   * at a time, and whole 3-s rounds put such a change on one side of a pair only. Backlog rounds, which time the
   * draining of a whole backlog, stay whole.
   *
   * @return the comparison, sliced
   */
  public Comparison inSlices() {
    return inSlices(0);
  }

  /**
   * @param minSliceNanos the shortest slice the sides can run (wrk: a whole second)
   * @return the comparison, sliced into as many of {@code --slices} as slices of at least that length allow
   */
  public Comparison inSlices(long minSliceNanos) {
    return new Comparison(name, settings, goal, raw, streamtools, latency, minRounds, true, minSliceNanos);
  }

  /**
   * @param runSlices the run's {@code --slices}
   * @param roundNanos the run's round length
   * @return how many slices each side's round is cut into
   */
  public int slices(int runSlices, long roundNanos) {
    if (!sliced) {
      return 1;
    }
    return (int) Math.max(1, minSliceNanos <= 0 ? runSlices : Math.min(runSlices, roundNanos / minSliceNanos));
  }

  /**
   * @param runRounds the run's {@code --rounds}
   * @return the measured rounds per side of this comparison
   */
  public int rounds(int runRounds) {
    return Math.max(runRounds, minRounds);
  }
}
