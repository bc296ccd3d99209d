package dev.streamtools.kafka.impl;

import dev.streamtools.spi.ContextInbox;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.AbstractSet;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A byte-array {@link KafkaConsumer} on a thread of its own, which polls as often as the loop asks and, between
 * polls, runs what the loop asked for (pauses, resumes, seeks, commits, close) in the order asked.
 *
 * <p>Why its own thread and not vertx-kafka-client's {@code KafkaReadStream}: the stream runs each poll and each
 * request as a separate task on a worker and each result as a separate context task, and has no hook for two
 * things this class makes exact (its effect on a backlog's rate, with the loop's back-pressure rule, is in
 * BENCHMARKS.md):
 * <ul>
 *   <li>Rebalances are handled synchronously: on revoke it asks the loop (blocking this thread, bounded) to stop
 *   the revoked partitions, let their in-flight records finish, and name what may be committed, then commits it
 *   before giving the partitions up, as Kafka's rebalance protocol intends.</li>
 *   <li>Every assignment of a partition gets a new generation number. Pause, resume, seek and commit requests
 *   carry the generation they were computed for ({@link TaggedPartitions}, {@link TaggedOffsets}); those for a
 *   partition that has since been revoked (and perhaps assigned again) are dropped here, where the assignment is
 *   known exactly. A stale commit can therefore never move a new owner's offset back, nor a stale pause stall a
 *   fresh assignment.</li>
 * </ul>
 *
 * <p>Thread safety: the methods may be called from any thread, and their requests run on the poll thread in the
 * order of the calls. Poll results, completions of the returned Futures and the {@link Rebalance} events that
 * are not blocking reach the loop's context through one inbox, in the order they happened: the completion of
 * {@link #close} comes after every poll result.
 */
final class GroupConsumer {

  private static final Logger LOG = LoggerFactory.getLogger(GroupConsumer.class);

  /**
   * The loop's side of a rebalance. {@link #revoked} is called on the poll thread, and blocks it; the others on
   * the loop's context, in order with the poll results: an assignment is known before its first records.
   */
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

  /** What polls bring the loop; called on its context. */
  interface Polled {
    /**
     * The result of one poll.
     *
     * @param records what it fetched, perhaps nothing
     * @param seeked the seeks made before this poll: from here on, the records of those partitions come from
     *               the offsets sought
     */
    void records(ConsumerRecords<byte[], byte[]> records, List<Seeked> seeked);

    /** One poll failed. */
    void failed(RuntimeException error);
  }

  /** A seek back made for an assignment (generation) of a partition. */
  record Seeked(TopicPartition tp, long generation) {
  }

  /** A request run on the poll thread; abandoned (its Future completed) if the thread has ended. */
  private interface Request {
    void run();

    default void abandon() {
    }

    /** The request threw (the consumer refused it); the thread goes on with the next one. */
    default void failed(RuntimeException e) {
    }
  }

  private final Map<String, Object> config;
  private final String topic;
  private final Rebalance rebalance;
  private final Polled polled;
  private final Duration commitTimeout;
  private final ContextInbox inbox;
  private final LinkedBlockingQueue<Request> requests = new LinkedBlockingQueue<>();
  private final Thread thread;
  private final Promise<Void> started = Promise.promise();
  private volatile boolean ended;

  // Touched only on the poll thread.
  private KafkaConsumer<byte[], byte[]> consumer;
  private final Map<TopicPartition, Long> generations = new HashMap<>();
  private long nextGeneration = 1;
  private final ArrayDeque<Duration> pollsAsked = new ArrayDeque<>();
  private List<Seeked> seeked = new ArrayList<>();
  private boolean closed;

  GroupConsumer(Map<String, Object> config, String topic, Context context, Rebalance rebalance, Polled polled,
                Duration commitTimeout) {
    this.config = config;
    this.topic = topic;
    this.rebalance = rebalance;
    this.polled = polled;
    this.commitTimeout = commitTimeout;
    this.inbox = new ContextInbox(context);
    this.thread = new Thread(this::run, "streamtools-kafka-consumer-" + topic);
    // like the Kafka clients' own threads: a process that never closes its loops can still exit
    this.thread.setDaemon(true);
  }

  /**
   * Creates the consumer and subscribes it to the topic, on the poll thread.
   *
   * @return completes on the context when subscribed, fails if the consumer cannot be created
   */
  Future<Void> start() {
    thread.start();
    return started.future();
  }

  /** Polls once more, with this timeout, after the requests made before. */
  void poll(Duration timeout) {
    ask(new Request() {
      @Override
      public void run() {
        pollsAsked.add(timeout);
      }

      @Override
      public void abandon() {
        pollRefused();
      }
    });
  }

  /**
   * Answers the polls asked and not yet made with no records, once the poll being made (if one is) returns.
   */
  void cancelPolls() {
    ask(() -> {
      while (pollsAsked.poll() != null) {
        inbox.submit(() -> polled.records(ConsumerRecords.empty(), List.of()));
      }
    });
  }

  /** Pauses; a {@link TaggedPartitions} may also carry seeks back, made if their partition is current. */
  void pause(TaggedPartitions partitions) {
    ask(() -> {
      consumer.pause(current(partitions));
      partitions.seeks.forEach((tp, offset) -> {
        long generation = partitions.generation(tp);
        if (isCurrent(tp, generation)) {
          consumer.seek(tp, offset);
          seeked.add(new Seeked(tp, generation));
        }
      });
    });
  }

  void resume(TaggedPartitions partitions) {
    ask(() -> consumer.resume(current(partitions)));
  }

  /**
   * Commits the offsets of the partitions still at their generation.
   *
   * @param wait whether to wait for the broker before the next poll ({@code commitSync}, for a final commit);
   *             otherwise the commit is started ({@code commitAsync}) and polling goes on: a periodic commit so
   *             does not stop polling for the coordinator's round trip (about 7 ms every 100 ms on the
   *             benchmark's broker). Kafka keeps commits in the order they are made, so a later synchronous
   *             commit (on revoke or close) is never overtaken by an older one.
   * @return completes when committed (an async commit's outcome comes with a later poll)
   */
  Future<Void> commit(TaggedOffsets offsets, boolean wait) {
    Promise<Void> result = Promise.promise();
    ask(new Request() {
      @Override
      public void run() {
        Map<TopicPartition, OffsetAndMetadata> valid = new LinkedHashMap<>();
        offsets.forEach((tp, offset) -> {
          if (isCurrent(tp, offsets.generation(tp))) {
            valid.put(tp, offset);
          }
        });
        if (valid.isEmpty()) {
          inbox.submit(result::complete);
        } else if (wait) {
          try {
            consumer.commitSync(valid, commitTimeout);
            inbox.submit(result::complete);
          } catch (RuntimeException e) {
            inbox.submit(() -> result.fail(e));
          }
        } else {
          consumer.commitAsync(valid, (committed, error) -> inbox.submit(() -> {
            if (error == null) {
              result.complete();
            } else {
              result.fail(error);
            }
          }));
        }
      }

      @Override
      public void abandon() {
        inbox.submit(() -> result.fail(new IllegalStateException("the consumer of topic '" + topic
          + "' is closed")));
      }

      @Override
      public void failed(RuntimeException e) {
        inbox.submit(() -> result.fail(e));
      }
    });
    return result.future();
  }

  /**
   * Closes the consumer after the requests made before; its rebalance listener gives the partitions up
   * (committing what the loop names) on the way. Safe to call again.
   *
   * @return completes on the context once closed, after every poll result
   */
  Future<Void> close(Duration timeout) {
    Promise<Void> result = Promise.promise();
    ask(new Request() {
      @Override
      public void run() {
        closeConsumer(timeout);
        inbox.submit(result::complete);
      }

      @Override
      public void abandon() {
        inbox.submit(result::complete);
      }
    });
    return result.future();
  }

  private void ask(Request request) {
    requests.add(request);
    if (ended) {
      abandonRequests();
    }
  }

  private void abandonRequests() {
    Request r;
    while ((r = requests.poll()) != null) {
      r.abandon();
    }
  }

  private void run() {
    try {
      consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
      consumer.subscribe(List.of(topic), new Listener());
    } catch (RuntimeException e) {
      if (consumer != null) {
        closeConsumer(Duration.ZERO);
      }
      end();
      inbox.submit(() -> started.fail(e));
      return;
    }
    inbox.submit(started::complete);
    try {
      while (!closed) {
        // every request asked before the next poll runs before it
        Request request = pollsAsked.isEmpty() ? requests.take() : requests.poll();
        if (request != null) {
          try {
            request.run();
          } catch (RuntimeException e) {
            LOG.warn("[kafka queue '{}'] consumer request failed: {}", topic, e.toString());
            request.failed(e);
          }
        } else {
          pollOnce(pollsAsked.poll());
        }
      }
    } catch (InterruptedException e) {
      LOG.warn("[kafka queue '{}'] consumer thread interrupted; closing the consumer", topic);
      closeConsumer(Duration.ZERO);
    } catch (RuntimeException | Error e) {
      LOG.error("[kafka queue '{}'] consumer thread failed; closing the consumer", topic, e);
      closeConsumer(Duration.ZERO);
    } finally {
      end();
    }
  }

  private void end() {
    ended = true;
    // every poll asked gets an answer, so the loop never waits for one that will not come
    while (pollsAsked.poll() != null) {
      pollRefused();
    }
    abandonRequests();
  }

  private void pollRefused() {
    inbox.submit(() -> polled.failed(new IllegalStateException("the consumer of topic '" + topic + "' is closed")));
  }

  private void pollOnce(Duration timeout) {
    ConsumerRecords<byte[], byte[]> records;
    try {
      records = consumer.poll(timeout);
    } catch (RuntimeException e) {
      inbox.submit(() -> polled.failed(e));
      return;
    }
    List<Seeked> before = seeked;
    if (!before.isEmpty()) {
      seeked = new ArrayList<>();
    }
    inbox.submit(() -> polled.records(records, before));
  }

  private void closeConsumer(Duration timeout) {
    if (closed) {
      return;
    }
    closed = true;
    try {
      consumer.close(timeout);
    } catch (RuntimeException e) {
      LOG.warn("[kafka queue '{}'] consumer close: {}", topic, e.toString());
    }
  }

  private Collection<TopicPartition> current(TaggedPartitions partitions) {
    List<TopicPartition> valid = new ArrayList<>(partitions.size());
    for (TopicPartition tp : partitions) {
      if (isCurrent(tp, partitions.generation(tp))) {
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

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      if (partitions.isEmpty()) {
        return;
      }
      Map<TopicPartition, Long> tagged = tag(partitions);
      try {
        Map<TopicPartition, OffsetAndMetadata> offsets = rebalance.revoked(tagged);
        if (!offsets.isEmpty()) {
          consumer.commitSync(offsets, commitTimeout);
          LOG.debug("[kafka queue '{}'] committed {} before giving the partitions up", topic, offsets);
        }
      } catch (RuntimeException e) {
        // the records after the last commit are delivered again to the next owner: duplicates, not loss
        LOG.warn("[kafka queue '{}'] could not commit finished records of revoked partitions {}; their next owner "
          + "will receive them again: {}", topic, tagged.keySet(), e.toString());
      }
      partitions.forEach(generations::remove);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      if (partitions.isEmpty()) {
        return;
      }
      Map<TopicPartition, Long> tagged = tag(partitions);
      inbox.submit(() -> rebalance.lost(tagged));
      partitions.forEach(generations::remove);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      Map<TopicPartition, Long> tagged = new LinkedHashMap<>();
      for (TopicPartition tp : partitions) {
        long g = nextGeneration++;
        generations.put(tp, g);
        tagged.put(tp, g);
      }
      inbox.submit(() -> rebalance.assigned(tagged));
    }
  }

  /** Partitions tagged with their generations; built on the event loop, read on the poll thread. */
  static final class TaggedPartitions extends AbstractSet<TopicPartition> {
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

    /** @return the generation, or {@code -1} if unknown */
    long generation(TopicPartition tp) {
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
  static final class TaggedOffsets extends HashMap<TopicPartition, OffsetAndMetadata> {
    private static final long serialVersionUID = 1L;
    private final transient Map<TopicPartition, Long> generations = new HashMap<>();

    void put(TopicPartition tp, long offset, long generation) {
      put(tp, new OffsetAndMetadata(offset));
      generations.put(tp, generation);
    }

    /** @return the generation, or {@code -1} if unknown */
    long generation(TopicPartition tp) {
      return generations.getOrDefault(tp, -1L);
    }
  }
}
