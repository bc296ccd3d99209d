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
 */
public record Comparison(String name, String settings, Goal goal, Side raw, Side streamtools, boolean latency,
                         int minRounds) {

  /** A comparison measured over the run's {@code --rounds}. */
  public Comparison(String name, String settings, Goal goal, Side raw, Side streamtools, boolean latency) {
    this(name, settings, goal, raw, streamtools, latency, 0);
  }

  /**
   * @param runRounds the run's {@code --rounds}
   * @return the measured rounds per side of this comparison
   */
  public int rounds(int runRounds) {
    return Math.max(runRounds, minRounds);
  }
}
