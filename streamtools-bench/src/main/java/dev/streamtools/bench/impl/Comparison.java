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
 */
public record Comparison(String name, String settings, Goal goal, Side raw, Side streamtools, boolean latency) {
}
