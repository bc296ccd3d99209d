package dev.streamtools.bench.impl;

/**
 * What a stall scenario observed: a consumer whose handler holds every message for a while under a full backlog.
 *
 * @param name scenario name
 * @param settings backlog, bound and stall time
 * @param heapBeforeMb used heap after a full GC, consumer started and stalled, at the start of the stall
 * @param heapAfterMb used heap after a full GC at the end of the stall, before the handler is released
 * @param maxInHandler the most messages the handler held at once
 * @param maxInFlight the configured bound
 * @param buffered messages taken from the broker but not yet acknowledged at the end of the stall, -1 if the
 *     transport does not let the benchmark see it
 * @param notes other evidence (rebalances, refusals, redeliveries)
 * @param ok whether the bound held, the heap stayed flat and nothing was lost or redelivered
 */
public record StallResult(String name, String settings, double heapBeforeMb, double heapAfterMb, int maxInHandler,
                          int maxInFlight, long buffered, String notes, boolean ok) {
}
