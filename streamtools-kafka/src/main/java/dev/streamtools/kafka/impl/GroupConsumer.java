package dev.streamtools.kafka.impl;

import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.AbstractSet;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * A byte-array {@link KafkaConsumer} that vertx-kafka-client drives on its worker thread, with two additions
 * the library has no hook for.
 *
 * <p>Rebalances are handled synchronously. vertx-kafka-client's own listener only posts the event to the
 * event loop and returns, so the partition is already gone when a commit in a revoke handler runs. This class
 * wraps that listener: on revoke it asks the loop (blocking the poll thread, bounded) to stop the revoked
 * partitions, let their in-flight records finish, and name what may be committed, then commits it before
 * giving the partitions up, as Kafka's rebalance protocol intends.
 *
 * <p>Every assignment of a partition gets a new generation number. Pause, resume and commit requests built by
 * the loop carry the generation they were computed for ({@link Tagged}); those for a partition that has since
 * been revoked (and perhaps assigned again) are dropped here, on the poll thread, where the assignment is
 * known exactly. A stale commit can therefore never move a new owner's offset back, nor a stale pause stall a
 * fresh assignment.
 *
 * <p>Everything here runs on the consumer's single worker thread, except construction.
 */
final class GroupConsumer extends KafkaConsumer<byte[], byte[]> {

  private static final Logger LOG = LoggerFactory.getLogger(GroupConsumer.class);

  /** The loop's side of a rebalance; called on the poll thread. */
  interface Rebalance {
    /**
     * Stops the partitions, waits (bounded) for their in-flight records.
     *
     * @return the offsets to commit before they are given up
     */
    Map<TopicPartition, OffsetAndMetadata> revoked(Map<TopicPartition, Long> partitions);

    /** The partitions were lost (the member was fenced): stop them, commit nothing. */
    void lost(Map<TopicPartition, Long> partitions);

    /** New partitions, each with its generation. */
    void assigned(Map<TopicPartition, Long> partitions);
  }

  /** Partitions or offsets with the generation of the assignment they were computed for. */
  interface Tagged {
    /** @return the generation, or {@code -1} if unknown */
    long generation(TopicPartition tp);
  }

  private final String topic;
  private final Rebalance rebalance;
  private final Duration commitTimeout;
  private final Map<TopicPartition, Long> generations = new HashMap<>();
  private long nextGeneration = 1;

  GroupConsumer(Map<String, Object> config, String topic, Rebalance rebalance, Duration commitTimeout) {
    super(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.topic = topic;
    this.rebalance = rebalance;
    this.commitTimeout = commitTimeout;
  }

  @Override
  public void subscribe(Collection<String> topics, ConsumerRebalanceListener listener) {
    super.subscribe(topics, new Listener(listener));
  }

  @Override
  public void subscribe(Pattern pattern, ConsumerRebalanceListener listener) {
    super.subscribe(pattern, new Listener(listener));
  }

  /** Pauses; a {@link TaggedPartitions} may also carry seeks back, made here if their partition is current. */
  @Override
  public void pause(Collection<TopicPartition> partitions) {
    super.pause(current(partitions));
    if (partitions instanceof TaggedPartitions) {
      TaggedPartitions tagged = (TaggedPartitions) partitions;
      tagged.seeks.forEach((tp, offset) -> {
        if (isCurrent(tp, tagged.generation(tp))) {
          super.seek(tp, offset);
        }
      });
    }
  }

  @Override
  public void resume(Collection<TopicPartition> partitions) {
    super.resume(current(partitions));
  }

  /**
   * vertx-kafka-client commits with {@code commitSync} on the poll thread; offsets that ask for it
   * ({@link TaggedOffsets#async}) are committed with {@code commitAsync} instead, their outcome reported to their
   * handler (on the poll thread, from a later poll). A periodic commit so no longer stops polling for the
   * coordinator's round trip (about 7 ms every 100 ms on the benchmark's broker). Kafka keeps commits in the
   * order they are made, so a later synchronous commit (on revoke or close) is never overtaken by an older one.
   */
  @Override
  public void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets) {
    Map<TopicPartition, OffsetAndMetadata> valid = offsets;
    if (offsets instanceof Tagged) {
      valid = new LinkedHashMap<>();
      for (Map.Entry<TopicPartition, OffsetAndMetadata> e : offsets.entrySet()) {
        if (isCurrent(e.getKey(), ((Tagged) offsets).generation(e.getKey()))) {
          valid.put(e.getKey(), e.getValue());
        }
      }
    }
    Consumer<Exception> outcome = offsets instanceof TaggedOffsets
      ? ((TaggedOffsets) offsets).outcome : null;
    if (outcome == null) {
      if (!valid.isEmpty()) {
        super.commitSync(valid, commitTimeout);
      }
    } else if (valid.isEmpty()) {
      outcome.accept(null);
    } else {
      super.commitAsync(valid, (committed, error) -> outcome.accept(error));
    }
  }

  private Collection<TopicPartition> current(Collection<TopicPartition> partitions) {
    if (!(partitions instanceof Tagged)) {
      return partitions;
    }
    List<TopicPartition> valid = new java.util.ArrayList<>(partitions.size());
    for (TopicPartition tp : partitions) {
      if (isCurrent(tp, ((Tagged) partitions).generation(tp))) {
        valid.add(tp);
      }
    }
    return valid;
  }

  private boolean isCurrent(TopicPartition tp, long generation) {
    Long g = generations.get(tp);
    return g != null && g == generation;
  }

  private Map<TopicPartition, Long> tag(Collection<TopicPartition> partitions) {
    Map<TopicPartition, Long> tagged = new LinkedHashMap<>();
    for (TopicPartition tp : partitions) {
      Long g = generations.get(tp);
      if (g != null) {
        tagged.put(tp, g);
      }
    }
    return tagged;
  }

  private final class Listener implements ConsumerRebalanceListener {
    private final ConsumerRebalanceListener delegate;

    Listener(ConsumerRebalanceListener delegate) {
      this.delegate = delegate;
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      if (!partitions.isEmpty()) {
        Map<TopicPartition, Long> tagged = tag(partitions);
        try {
          Map<TopicPartition, OffsetAndMetadata> offsets = rebalance.revoked(tagged);
          if (!offsets.isEmpty()) {
            GroupConsumer.super.commitSync(offsets, commitTimeout);
            LOG.debug("[kafka queue '{}'] committed {} before giving the partitions up", topic, offsets);
          }
        } catch (RuntimeException e) {
          // the records after the last commit are delivered again to the next owner: duplicates, not loss
          LOG.warn("[kafka queue '{}'] could not commit finished records of revoked partitions {}; their next owner "
            + "will receive them again: {}", topic, tagged.keySet(), e.toString());
        }
        partitions.forEach(generations::remove);
      }
      delegate.onPartitionsRevoked(partitions);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      if (!partitions.isEmpty()) {
        Map<TopicPartition, Long> tagged = tag(partitions);
        try {
          rebalance.lost(tagged);
        } catch (RuntimeException e) {
          LOG.warn("[kafka queue '{}'] handling lost partitions {}: {}", topic, tagged.keySet(), e.toString());
        }
        partitions.forEach(generations::remove);
      }
      delegate.onPartitionsLost(partitions);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      Map<TopicPartition, Long> tagged = new LinkedHashMap<>();
      for (TopicPartition tp : partitions) {
        long g = nextGeneration++;
        generations.put(tp, g);
        tagged.put(tp, g);
      }
      try {
        rebalance.assigned(tagged);
      } catch (RuntimeException e) {
        LOG.warn("[kafka queue '{}'] handling assigned partitions {}: {}", topic, tagged.keySet(), e.toString());
      }
      delegate.onPartitionsAssigned(partitions);
    }
  }

  /** Partitions tagged with their generations; built on the event loop, read on the poll thread. */
  static final class TaggedPartitions extends AbstractSet<TopicPartition> implements Tagged {
    private final Map<TopicPartition, Long> generations = new LinkedHashMap<>();
    private final Map<TopicPartition, Long> seeks = new LinkedHashMap<>();

    void add(TopicPartition tp, long generation) {
      generations.put(tp, generation);
    }

    /** Pause the partition and fetch it again from {@code offset} (its records from there were given back). */
    void addSeek(TopicPartition tp, long generation, long offset) {
      generations.put(tp, generation);
      seeks.put(tp, offset);
    }

    @Override
    public long generation(TopicPartition tp) {
      return generations.getOrDefault(tp, -1L);
    }

    @Override
    public Iterator<TopicPartition> iterator() {
      return generations.keySet().iterator();
    }

    @Override
    public int size() {
      return generations.size();
    }
  }

  /** Offsets tagged with their partitions' generations. */
  static final class TaggedOffsets extends HashMap<TopicPartition, OffsetAndMetadata> implements Tagged {
    private static final long serialVersionUID = 1L;
    private final transient Map<TopicPartition, Long> generations = new HashMap<>();
    private transient Consumer<Exception> outcome;

    /**
     * Commit these offsets asynchronously; the commit task then only starts the commit.
     *
     * @param outcome told the commit's outcome (null: committed), on the poll thread
     * @return these offsets
     */
    TaggedOffsets async(Consumer<Exception> outcome) {
      this.outcome = outcome;
      return this;
    }

    void put(TopicPartition tp, long offset, long generation) {
      put(tp, new OffsetAndMetadata(offset));
      generations.put(tp, generation);
    }

    @Override
    public long generation(TopicPartition tp) {
      return generations.getOrDefault(tp, -1L);
    }
  }
}
