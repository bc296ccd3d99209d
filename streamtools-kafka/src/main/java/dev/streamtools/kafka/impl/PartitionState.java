package dev.streamtools.kafka.impl;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

import java.util.ArrayDeque;

/**
 * One assignment (generation) of one partition, as the consumer loop sees it: records fetched and not yet
 * dispatched, records not yet done in offset order, and the offset that may be committed. Touched only on
 * the loop's event loop.
 *
 * <p>The commit rule (design.md section 4): the committable offset is that of the first record not yet done,
 * or one past the last record when all are done. A slow early record therefore holds the commit back however
 * many later records finish; concurrency can cause redelivery but never loss.
 */
final class PartitionState {

  /** A fetched record and whether it is done (acknowledged or dead-lettered). */
  static final class Tracked {
    final ConsumerRecord<byte[], byte[]> record;
    boolean done;

    Tracked(ConsumerRecord<byte[], byte[]> record) {
      this.record = record;
    }

    long offset() {
      return record.offset();
    }
  }

  final TopicPartition tp;
  final long generation;
  /** {@link KafkaWire#idPrefix} of this partition. */
  final String idPrefix;
  /** Fetched, waiting for a slot. */
  final ArrayDeque<Tracked> queue = new ArrayDeque<>();
  /** Every fetched record not yet done, in offset order (records arrive in offset order). */
  private final ArrayDeque<Tracked> outstanding = new ArrayDeque<>();
  /** Deliveries whose retry backoff has passed, served before new records. */
  final ArrayDeque<RecordDelivery> retryReady = new ArrayDeque<>();

  /** Records holding one of this partition's slots: in the handler, in backoff, or waiting for redelivery. */
  int active;
  /** Records in the dispatcher now (handler or settling): what a revoke waits for. */
  int inHandler;
  /** Records waiting for their retry backoff to pass. */
  int backingOff;
  /** Whether we asked the consumer to pause this partition. */
  boolean paused;
  /** Revoked or lost: nothing more is dispatched or committed for this generation. */
  boolean revoked;
  /** The last offset committed for this generation, or -1. */
  long committed = -1;
  private long nextAfterDone = -1;
  private boolean anyDone;
  /** Set while a revoke waits for this partition's in-flight records. */
  Runnable drainWaiter;
  /** Since when (nanoTime) this paused partition has held more waiting records than its share, or -1. */
  long excessSince = -1;
  /**
   * Seeks back asked and not yet made: until they are, this partition's fetched records come from before the
   * seek and are dropped.
   */
  int seeksPending;

  PartitionState(TopicPartition tp, long generation) {
    this.tp = tp;
    this.generation = generation;
    this.idPrefix = KafkaWire.idPrefix(tp);
  }

  void enqueue(ConsumerRecord<byte[], byte[]> record) {
    Tracked t = new Tracked(record);
    queue.add(t);
    outstanding.add(t);
  }

  void done(Tracked t) {
    t.done = true;
    anyDone = true;
    while (!outstanding.isEmpty() && outstanding.peekFirst().done) {
      nextAfterDone = outstanding.pollFirst().offset() + 1;
    }
  }

  /** @return the offset to commit now, or -1 when there is nothing new to commit */
  long commitCandidate() {
    if (!anyDone) {
      return -1;
    }
    long candidate = outstanding.isEmpty() ? nextAfterDone : outstanding.peekFirst().offset();
    return candidate > committed ? candidate : -1;
  }

  /**
   * Gives back the newest waiting records beyond the first {@code keep}: never dispatched, they leave the commit
   * tracking too, so no commit can pass them, and are fetched again from the returned offset.
   *
   * @return the offset of the first record given back, or -1 if none was
   */
  long trimWaiting(int keep) {
    long first = -1;
    // the waiting records are the newest outstanding ones (records are dispatched in offset order)
    while (queue.size() > keep && queue.peekLast() == outstanding.peekLast()) {
      first = queue.pollLast().offset();
      outstanding.pollLast();
    }
    return first;
  }

  /** Drops what was fetched but not dispatched; those records stay uncommitted and are fetched again. */
  int dropQueued() {
    int n = queue.size();
    queue.clear();
    retryReady.clear();
    return n;
  }

  @Override
  public String toString() {
    return tp + "#" + generation;
  }
}
