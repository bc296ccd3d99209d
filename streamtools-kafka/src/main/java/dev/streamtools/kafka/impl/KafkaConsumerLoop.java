package dev.streamtools.kafka.impl;

import dev.streamtools.ConsumerLoop;
import dev.streamtools.Message;
import dev.streamtools.MessageHandler;
import dev.streamtools.RouteOptions;
import dev.streamtools.StreamtoolsException;
import dev.streamtools.Transports;
import dev.streamtools.kafka.KafkaTransport;
import dev.streamtools.spi.DeadLetters;
import dev.streamtools.spi.Dispatcher;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Consumes one topic in a consumer group, on a Kafka consumer with its own poll thread ({@link GroupConsumer}).
 *
 * <p>How it keeps Kafka's promises (design.md sections 4 and 8):
 * <ul>
 *   <li>The loop asks for each poll itself ({@link #maybePoll()}): the next one while fewer than
 *   {@code maxInFlight} fetched records wait, so memory is bounded by about {@code 2 x maxInFlight} records plus
 *   two {@code max.poll.records} batches (while the handler keeps up, the next batch is fetched while one is
 *   handed over), or sixteen for about a second after a handler that took every record on arrival slows down
 *   (see {@link #maybePoll()}). It never stops asking: when the handler makes no room in time, the loop polls
 *   anyway with <em>partitions</em> paused ({@link #applyPauses}), so polling — and group membership — stays alive however
 *   slow the handler is. A partition that keeps more than its share for a second gives the rest back (a seek
 *   back), so one stalled key does not stall the other partitions, and a stalled handler holds at most
 *   {@code maxInFlight} records.</li>
 *   <li>Records are consumed as bytes and turned into {@link Message}s here, so no record can fail in a
 *   deserializer and stall its partition; a body the route cannot decode is dead-lettered by the dispatcher.</li>
 *   <li>At most {@code KAFKA_MAX_IN_FLIGHT_PER_PARTITION} records of a partition are in the handler (1 by
 *   default: per-key order), and all partitions share the dispatcher's {@code maxInFlight}.</li>
 *   <li>Offsets are committed manually, every {@code KAFKA_COMMIT_INTERVAL_MS}, on revoke and on close, and
 *   only up to the first record not done ({@link PartitionState}).</li>
 *   <li>A retry keeps the record's offset uncommitted and delivers it again after the backoff, holding its
 *   partition slot so order is kept; after the last attempt the record goes to {@code <topic>.dlq} (acks=all)
 *   with the reason in headers, and only then counts as done. A poison record so blocks its partition for at
 *   most the policy's attempts and backoffs.</li>
 *   <li>On revoke ({@link GroupConsumer}) the revoked partitions stop, their in-flight records get up to the
 *   drain timeout, and what is done is committed before the partitions are given up.</li>
 * </ul>
 * Everything but the rebalance callbacks runs on the loop's context.
 */
public final class KafkaConsumerLoop implements ConsumerLoop {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaConsumerLoop.class);
  // While a partition is paused, a long poll on the others (often idle) would keep it paused long after its
  // records drained; a short one lets it resume within a few milliseconds.
  private static final Duration PAUSED_POLL = Duration.ofMillis(20);
  private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(15);
  private static final long MAX_POLL_BACKOFF_MS = 30_000;
  private static final long MIN_REDELIVERY_MS = 1_000;
  private static final int POLLS_AHEAD = 2;
  private static final int DEEP_POLLS_AHEAD = 16;
  // Polls asked ahead hold what they bring if the handler slows down: deep asking only while polls are this small
  private static final long DEEP_POLL_MAX_BYTES = 1 << 20;
  // A partition paused this long with more waiting records than its share gives the excess back (a seek)
  private static final long GIVE_BACK_AFTER_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final Vertx vertx;
  private final String topic;
  private final KafkaClientConfig config;
  private final Context context;
  private final io.vertx.core.Closeable closeHook = completion -> close().onComplete(completion);

  // Everything below is touched only on the context, except `ready`.
  private final Map<TopicPartition, PartitionState> partitions = new LinkedHashMap<>();
  private final List<PartitionState> rotation = new ArrayList<>();
  private final Map<String, KafkaTopicProducer> deadLetterProducers = new HashMap<>();
  private final Set<Long> retryTimers = new HashSet<>();
  private RouteOptions options;
  private Dispatcher dispatcher;
  private GroupConsumer consumer;
  private Future<Void> initialized;
  private boolean started;
  private boolean closing;
  private boolean drainOver;
  private boolean consumerClosed;
  private volatile boolean ready;
  private Future<Void> shutdown;
  private Promise<Void> firstAssignment;
  private int cursor;
  private boolean pumping;
  private boolean pumpAgain;
  private int pollsInFlight;
  private boolean keepingUp;
  private boolean polling;
  private long holdTimer = -1;
  private long pollBackoffTimer = -1;
  private boolean stopPolling;
  private Promise<Void> pollStopped;
  private int pollFailures;
  private long commitTimer = -1;
  private boolean committing;
  private int commitFailures;
  private long received;
  private long acked;
  private long retried;
  private long deadLettered;

  /**
   * @param vertx the Vert.x instance
   * @param topic the topic
   * @param config its settings
   */
  public KafkaConsumerLoop(Vertx vertx, String topic, KafkaClientConfig config) {
    this.vertx = vertx;
    this.topic = topic;
    this.config = config;
    this.context = vertx.getOrCreateContext();
  }

  @Override
  public String transport() {
    return Transports.KAFKA;
  }

  @Override
  public String queue() {
    return topic;
  }

  @Override
  public Future<Void> init() {
    Promise<Void> p = Promise.promise();
    onContext(() -> initOnContext().onComplete(p));
    return p.future();
  }

  private Future<Void> initOnContext() {
    if (initialized == null) {
      initialized = Topics.ensure(context, config, topic);
      initialized.onFailure(e -> initialized = null);
    }
    return initialized;
  }

  @Override
  public Future<Void> start(MessageHandler handler, RouteOptions options) {
    Promise<Void> p = Promise.promise();
    onContext(() -> {
      if (started) {
        p.fail(new IllegalStateException("kafka consumer loop for topic '" + topic + "' is already started"));
        return;
      }
      if (closing) {
        p.fail(new StreamtoolsException(Transports.KAFKA, topic, "consumer loop is closed", null));
        return;
      }
      started = true;
      this.options = options;
      this.dispatcher = Dispatcher.create(context, Transports.KAFKA, topic, handler, options)
        .capacityHandler(v -> pump());
      initOnContext()
        .compose(v -> createConsumer(options))
        .compose(v -> subscribe())
        .onSuccess(v -> {
          ready = true;
          LOG.info("[kafka queue '{}'] consuming in group '{}' from {} ({}, max {} in flight per partition)", topic,
            config.groupId(), config.bootstrapServers(), options, config.maxInFlightPerPartition());
        })
        .recover(e -> shutdown().transform(x -> Future.<Void>failedFuture(e instanceof StreamtoolsException ? e
          : new StreamtoolsException(Transports.KAFKA, topic, "consumer loop could not start: " + e, e))))
        .onComplete(p);
    });
    return p.future();
  }

  private Future<Void> createConsumer(RouteOptions options) {
    long revokeWaitMillis = options.drainTimeout().toMillis() + 5_000;
    GroupConsumer.Rebalance bridge = new GroupConsumer.Rebalance() {
      @Override
      public Map<TopicPartition, OffsetAndMetadata> revoked(Map<TopicPartition, Long> revoked) {
        CompletableFuture<Map<TopicPartition, OffsetAndMetadata>> answer = new CompletableFuture<>();
        context.runOnContext(v -> onRevoked(revoked, answer));
        try {
          return answer.get(revokeWaitMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
          LOG.warn("[kafka queue '{}'] the loop did not answer a revoke of {} in {} ms; nothing committed for them",
            topic, revoked.keySet(), revokeWaitMillis);
          return Map.of();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return Map.of();
        }
      }

      @Override
      public void lost(Map<TopicPartition, Long> lost) {
        onLost(lost);
      }

      @Override
      public void assigned(Map<TopicPartition, Long> assigned) {
        onAssigned(assigned);
      }
    };
    GroupConsumer.Polled polled = new GroupConsumer.Polled() {
      @Override
      public void records(ConsumerRecords<byte[], byte[]> records, List<GroupConsumer.Seeked> seeked) {
        onPolled(records, seeked);
      }

      @Override
      public void failed(RuntimeException error) {
        onPollFailed(error);
      }
    };
    Map<String, Object> props = config.consumerProperties();
    LOG.info("[kafka queue '{}'] consumer connecting to {} with {}", topic, config.bootstrapServers(),
      KafkaClientConfig.describe(props));
    consumer = new GroupConsumer(props, topic, context, bridge, polled, COMMIT_TIMEOUT);
    ((VertxInternal) vertx).addCloseHook(closeHook);
    return consumer.start();
  }

  private Future<Void> subscribe() {
    firstAssignment = Promise.promise();
    long startTimeout = config.startTimeoutMillis();
    long timer = vertx.setTimer(startTimeout, id -> firstAssignment.tryFail(new StreamtoolsException(Transports.KAFKA,
      topic, "no partition assignment within " + startTimeout + " ms (" + KafkaTransport.START_TIMEOUT_MS
      + "); is the broker at " + config.bootstrapServers() + " reachable?", null)));
    polling = true;
    maybePoll();
    commitTimer = vertx.setPeriodic(config.commitInterval().toMillis(), id -> commitTick());
    return firstAssignment.future().onComplete(ar -> vertx.cancelTimer(timer));
  }

  @Override
  public boolean isReady() {
    return ready;
  }

  /**
   * What this loop holds in memory: records fetched and waiting, in the handler, or waiting for a retry.
   * Call it on the loop's context (from a handler, for example); tests use it to check the bound.
   *
   * @return the number of records held
   */
  public int heldRecords() {
    int held = 0;
    for (PartitionState ps : partitions.values()) {
      held += ps.queue.size() + ps.active;
    }
    return held;
  }

  // ---------------------------------------------------------------------------------------------
  // Poll loop and back-pressure

  /**
   * Asks for polls while the loop has room: up to {@value #POLLS_AHEAD} in flight, so the consumer's thread
   * fetches the next batch while the event loop hands this one over, and only while fewer than
   * {@code maxInFlight} fetched records wait for the handler (those of partitions waiting for a retry backoff
   * not counted). Held records so stay below {@code maxInFlight} plus two {@code max.poll.records} batches.
   *
   * <p>While the handler takes every record of each poll as it arrives and polls bring records (at most
   * {@value #DEEP_POLL_MAX_BYTES} bytes of keys and values each), it asks up to {@value #DEEP_POLLS_AHEAD} polls
   * ahead instead: the poll thread then seldom waits for the next request, and every wait costs both threads a
   * wake-up (on a 2-core machine, 2 polls ahead consumed a backlog at 0.63-0.71 of the raw client's rate and 16 at
   * 0.76-0.86; BENCHMARKS.md). A handler that then slows down may hold up to {@value #DEEP_POLLS_AHEAD} polls'
   * records until the give-back below returns the excess, within about a second; an empty poll or a record left
   * waiting (in any partition, one whose records wait for a retry backoff included) goes back to
   * {@value #POLLS_AHEAD}.
   *
   * <p>While they do not, the next poll waits for the handler rather than pausing partitions: a paused
   * partition gets no fetch requests, so pausing a partition at every batch and resuming it when the batch was
   * taken stalled its fetches each time (a backlog was consumed at about half the raw client's rate). Only when
   * the handler has not made room within {@code KAFKA_POLL_TIMEOUT_MS} does the loop poll anyway, with the full
   * partitions paused ({@link #applyPauses}): polling, and so group membership, goes on however slow the
   * handler is.
   */
  private void maybePoll() {
    if (stopPolling) {
      if (pollsInFlight == 0 && pollStopped != null) {
        pollStopped.tryComplete();
      }
      return;
    }
    if (!polling || pollBackoffTimer != -1) {
      return;
    }
    int ahead = keepingUp ? DEEP_POLLS_AHEAD : POLLS_AHEAD;
    while (pollsInFlight < ahead) {
      if (movableWaiting() >= options.maxInFlight()) {
        if (pollsInFlight == 0 && holdTimer == -1) {
          holdTimer = vertx.setTimer(config.pollTimeout().toMillis(), id -> {
            holdTimer = -1;
            if (!stopPolling && pollsInFlight == 0 && pollBackoffTimer == -1) {
              poll(true);
            }
          });
        }
        return;
      }
      poll(false);
    }
  }

  /** @param keepAlive whether the handler has not made room in time: full partitions are paused */
  private void poll(boolean keepAlive) {
    if (holdTimer != -1) {
      vertx.cancelTimer(holdTimer);
      holdTimer = -1;
    }
    Duration timeout = applyPauses(keepAlive) ? PAUSED_POLL : config.pollTimeout();
    pollsInFlight++;
    consumer.poll(timeout);
  }

  private void onPolled(ConsumerRecords<byte[], byte[]> records, List<GroupConsumer.Seeked> seeked) {
    pollsInFlight--;
    if (pollFailures > 0) {
      LOG.info("[kafka queue '{}'] polling again after {} failed poll(s)", topic, pollFailures);
      pollFailures = 0;
      ready = !closing;
    }
    for (GroupConsumer.Seeked s : seeked) {
      PartitionState ps = partitions.get(s.tp());
      if (ps != null && ps.generation == s.generation() && ps.seeksPending > 0) {
        ps.seeksPending--;
      }
    }
    onRecords(records);
    maybePoll();
  }

  private void onPollFailed(RuntimeException error) {
    pollsInFlight--;
    pollFailures++;
    ready = false;
    long backoff = Math.min(MAX_POLL_BACKOFF_MS, 100L << Math.min(pollFailures, 12));
    LOG.error("[kafka queue '{}'] poll failed ({} in a row); polling again in {} ms: {}", topic, pollFailures,
      backoff, error.toString());
    if (!stopPolling && pollBackoffTimer == -1) {
      pollBackoffTimer = vertx.setTimer(backoff, id -> {
        pollBackoffTimer = -1;
        maybePoll();
      });
    }
    maybePoll();
  }

  /** @return records fetched and waiting for the handler, but those of partitions whose slots all back off */
  private int movableWaiting() {
    int perPartition = config.maxInFlightPerPartition();
    int movable = 0;
    for (PartitionState ps : partitions.values()) {
      if (ps.backingOff < perPartition) {
        movable += ps.queue.size();
      }
    }
    return movable;
  }

  private boolean noneWaiting() {
    for (PartitionState ps : partitions.values()) {
      if (!ps.queue.isEmpty()) {
        return false;
      }
    }
    return true;
  }

  private Future<Void> stopPollLoop() {
    stopPolling = true;
    if (consumer == null || pollsInFlight == 0) {
      return Future.succeededFuture();
    }
    // each poll asked ahead on an idle topic would take KAFKA_POLL_TIMEOUT_MS
    consumer.cancelPolls();
    if (pollStopped == null) {
      pollStopped = Promise.promise();
    }
    return pollStopped.future();
  }

  /**
   * Decides which partitions the next poll may fetch, and tells the consumer; the requests reach it before
   * the next poll because its thread runs requests in order. A poll made because the handler did not make room
   * in time ({@code keepAlive}) pauses every partition that holds its share of {@code maxInFlight} fetched records
   * (what, with its handler slots, fits its part of {@code maxInFlight}), and all of them while the partitions
   * that can move hold {@code maxInFlight} between them. A paused partition stays paused while it holds its
   * share, and is resumed by the next poll after that. A partition whose slots all wait for a retry backoff does
   * not count towards the shared budget, so a poison record does not stop the other partitions; such a partition
   * is paused by any poll once it holds its share, as the polls made for the others would otherwise fetch its whole
   * backlog while the record waits. One that keeps more than its share for a second gives the excess back
   * ({@link #giveBack}), so a stalled one does not stop the others either, and a stalled or retrying handler holds
   * at most {@code maxInFlight} records.
   *
   * @param keepAlive whether this poll is made although the handler has not made room
   * @return whether some assigned partition is paused: it may be resumed soon, so the next poll is short
   */
  private boolean applyPauses(boolean keepAlive) {
    int n = partitions.size();
    if (n == 0) {
      return false;
    }
    int maxInFlight = options.maxInFlight();
    int perPartition = config.maxInFlightPerPartition();
    // waiting records a partition may hold: with its handler slots, its part of maxInFlight (rounded down)
    int share = Math.max(1, maxInFlight / n - perPartition);
    boolean full = movableWaiting() >= maxInFlight;
    GroupConsumer.TaggedPartitions pause = new GroupConsumer.TaggedPartitions();
    GroupConsumer.TaggedPartitions resume = new GroupConsumer.TaggedPartitions();
    boolean anyPaused = false;
    long now = System.nanoTime();
    for (PartitionState ps : partitions.values()) {
      boolean over = ps.queue.size() >= share;
      // it takes no record until a backoff ends, and the polls it does not count towards go on for the others
      boolean retrying = ps.backingOff >= perPartition;
      boolean wanted = closing || (keepAlive ? full || over : (ps.paused || retrying) && over);
      if (wanted != ps.paused) {
        (wanted ? pause : resume).add(ps.tp, ps.generation);
        ps.paused = wanted;
      }
      anyPaused |= wanted;
      if (!wanted || closing || ps.queue.size() <= share) {
        ps.excessSince = -1;
      } else if (ps.excessSince < 0) {
        ps.excessSince = now;
      } else if (now - ps.excessSince >= GIVE_BACK_AFTER_NANOS) {
        // it keeps its share, so it stays paused until the handler takes one
        giveBack(ps, share, pause);
      }
    }
    if (!pause.isEmpty()) {
      consumer.pause(pause);
    }
    if (!resume.isEmpty()) {
      consumer.resume(resume);
    }
    return anyPaused;
  }

  /**
   * A paused partition that has held more waiting records than its share for a while (its handler stalls, or
   * crawls) gives back all but {@code keep}: they leave memory and the commit tracking, the consumer seeks back
   * to the first of them, and records of that partition from polls issued before the seek are dropped. Without
   * it, one partition's poll of {@code max.poll.records} (more than {@code maxInFlight}) kept every partition
   * paused for as long as its handler stalled: one stuck key stopped the topic. A partition gives back at most
   * once a second, so a slow handler costs at most that many fetches again per partition.
   */
  private void giveBack(PartitionState ps, int keep, GroupConsumer.TaggedPartitions pause) {
    int before = ps.queue.size();
    long from = ps.trimWaiting(keep);
    ps.excessSince = -1;
    if (from < 0) {
      return;
    }
    int given = before - ps.queue.size();
    received -= given;
    ps.seeksPending++;
    pause.addSeek(ps.tp, ps.generation, from);
    LOG.debug("[kafka queue '{}'] {} waited {} ms with {} records; gave back {} from offset {} to be fetched again",
      topic, ps.tp, TimeUnit.NANOSECONDS.toMillis(GIVE_BACK_AFTER_NANOS), before, given, from);
  }

  private void onRecords(ConsumerRecords<byte[], byte[]> records) {
    if (records.isEmpty()) {
      keepingUp = false;
      return;
    }
    long bytes = 0;
    for (TopicPartition tp : records.partitions()) {
      List<ConsumerRecord<byte[], byte[]>> list = records.records(tp);
      PartitionState ps = partitions.get(tp);
      if (ps == null || closing || ps.seeksPending > 0) {
        // not committed: fetched again by the partition's next owner, this group after a restart, or this loop
        // after its seek back
        LOG.debug("[kafka queue '{}'] not taking {} record(s) of {}: {}", topic, list.size(), tp,
          closing ? "closing" : ps == null ? "no longer assigned" : "fetched before a seek back");
        continue;
      }
      for (ConsumerRecord<byte[], byte[]> r : list) {
        ps.enqueue(r);
        bytes += Math.max(0, r.serializedKeySize()) + Math.max(0, r.serializedValueSize());
      }
      received += list.size();
    }
    pump();
    keepingUp = bytes <= DEEP_POLL_MAX_BYTES && noneWaiting();
  }

  /** Hands records to the dispatcher while it has room: retries first, then partitions in turn. */
  private void pump() {
    if (pumping) {
      pumpAgain = true;
      return;
    }
    pumping = true;
    try {
      do {
        pumpAgain = false;
        int perPartition = config.maxInFlightPerPartition();
        int idle = 0;
        while (!closing && !rotation.isEmpty() && idle < rotation.size() && dispatcher.hasCapacity()) {
          cursor = cursor % rotation.size();
          PartitionState ps = rotation.get(cursor);
          cursor++;
          RecordDelivery d = next(ps, perPartition);
          if (d == null) {
            idle++;
          } else {
            idle = 0;
            ps.inHandler++;
            dispatcher.dispatch(d);
          }
        }
      } while (pumpAgain);
    } finally {
      pumping = false;
    }
    maybePoll();
  }

  private RecordDelivery next(PartitionState ps, int perPartition) {
    RecordDelivery retry = ps.retryReady.poll();
    if (retry != null) {
      return retry;
    }
    if (ps.active >= perPartition || ps.queue.isEmpty()) {
      return null;
    }
    PartitionState.Tracked t = ps.queue.poll();
    ps.active++;
    return new RecordDelivery(this, ps, t, KafkaWire.message(t.record, ps.idPrefix), 1);
  }

  // ---------------------------------------------------------------------------------------------
  // Settling (called by RecordDelivery on the context)

  void settled(RecordDelivery d, boolean done) {
    PartitionState ps = d.partition;
    ps.inHandler--;
    ps.active--;
    if (done) {
      ps.done(d.tracked);
      acked++;
    }
    if (ps.drainWaiter != null) {
      ps.drainWaiter.run();
    }
    pump();
  }

  void retryLater(RecordDelivery d, Duration delay, int nextAttempt) {
    PartitionState ps = d.partition;
    ps.inHandler--;
    retried++;
    if (ps.drainWaiter != null) {
      ps.drainWaiter.run();
    }
    redeliverLater(d.next(nextAttempt), delay.toMillis());
  }

  // The record keeps its partition slot meanwhile, so later records of the partition wait behind it.
  private void redeliverLater(RecordDelivery d, long delayMillis) {
    PartitionState ps = d.partition;
    if (closing || ps.revoked) {
      ps.active--; // left uncommitted: delivered again after the restart or to the partition's next owner
      return;
    }
    long[] id = new long[1];
    ps.backingOff++;
    id[0] = vertx.setTimer(Math.max(1, delayMillis), t -> {
      retryTimers.remove(id[0]);
      ps.backingOff--;
      if (closing || ps.revoked) {
        ps.active--;
        return;
      }
      ps.retryReady.add(d);
      pump();
    });
    retryTimers.add(id[0]);
  }

  Future<Void> deadLetter(RecordDelivery d, String deadLetterQueue, String reason, Throwable cause) {
    Message original = d.message();
    Future<Void> sent;
    try {
      Message dead = DeadLetters.of(original, Transports.KAFKA, topic, d.attempt(), reason, cause)
        .withHeaders(Map.of(KafkaTransport.DEAD_LETTER_PARTITION_HEADER, Integer.toString(d.partition.tp.partition()),
          KafkaTransport.DEAD_LETTER_OFFSET_HEADER, Long.toString(d.tracked.offset())));
      KafkaTopicProducer producer = deadLetterProducers.get(deadLetterQueue);
      if (producer == null) {
        producer = new KafkaTopicProducer(vertx, deadLetterQueue, config.forTopic(deadLetterQueue));
        deadLetterProducers.put(deadLetterQueue, producer);
      }
      sent = producer.send(dead);
    } catch (RuntimeException e) {
      sent = Future.failedFuture(e);
    }
    return sent.transform(ar -> {
      if (ar.succeeded()) {
        deadLettered++;
        acked--; // counted by settled() below
        settled(d, true);
        return Future.succeededFuture();
      }
      PartitionState ps = d.partition;
      ps.inHandler--;
      if (ps.drainWaiter != null) {
        ps.drainWaiter.run();
      }
      long delay = Math.max(MIN_REDELIVERY_MS, options.failurePolicy().backoffAfter(d.attempt()).toMillis());
      // Skipping the record would commit past it and lose it; it is delivered again instead.
      LOG.warn("[kafka queue '{}'] dead letter of message {} ({}@{}) to '{}' failed; delivering it again in {} ms: {}",
        topic, original.id(), ps.tp, d.tracked.offset(), deadLetterQueue, delay, ar.cause().toString());
      redeliverLater(d, delay);
      return Future.failedFuture(new StreamtoolsException(Transports.KAFKA, topic, "dead letter of message "
        + original.id() + " to '" + deadLetterQueue + "' failed: " + ar.cause().getMessage(), ar.cause()));
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Rebalance (posted by GroupConsumer from the poll thread)

  private void onAssigned(Map<TopicPartition, Long> assigned) {
    for (Map.Entry<TopicPartition, Long> e : assigned.entrySet()) {
      PartitionState ps = new PartitionState(e.getKey(), e.getValue());
      PartitionState previous = partitions.put(e.getKey(), ps);
      if (previous != null) {
        rotation.remove(previous);
        previous.revoked = true;
        previous.dropQueued();
      }
      rotation.add(ps);
    }
    LOG.info("[kafka queue '{}'] group '{}' assigned {}; now consuming {}", topic, config.groupId(),
      assigned.keySet(), partitions.keySet());
    if (firstAssignment != null) {
      firstAssignment.tryComplete();
    }
  }

  private List<PartitionState> take(Map<TopicPartition, Long> gone) {
    List<PartitionState> taken = new ArrayList<>();
    for (Map.Entry<TopicPartition, Long> e : gone.entrySet()) {
      PartitionState ps = partitions.get(e.getKey());
      if (ps != null && ps.generation == e.getValue()) {
        partitions.remove(e.getKey());
        rotation.remove(ps);
        ps.revoked = true;
        ps.dropQueued();
        taken.add(ps);
      }
    }
    return taken;
  }

  private void onLost(Map<TopicPartition, Long> lost) {
    List<PartitionState> taken = take(lost);
    if (!taken.isEmpty()) {
      LOG.warn("[kafka queue '{}'] lost partitions {} (this member was fenced from group '{}'); their unfinished and "
        + "uncommitted records go to the next owner", topic, lost.keySet(), config.groupId());
    }
  }

  private void onRevoked(Map<TopicPartition, Long> revoked,
                         CompletableFuture<Map<TopicPartition, OffsetAndMetadata>> answer) {
    List<PartitionState> taken = take(revoked);
    if (taken.isEmpty()) {
      answer.complete(Map.of());
      return;
    }
    LOG.info("[kafka queue '{}'] partitions {} revoked from this member of group '{}'", topic, revoked.keySet(),
      config.groupId());
    long[] timer = {-1};
    Runnable finish = () -> {
      if (answer.isDone()) {
        return;
      }
      if (timer[0] != -1) {
        vertx.cancelTimer(timer[0]);
      }
      Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
      for (PartitionState ps : taken) {
        ps.drainWaiter = null;
        long c = ps.commitCandidate();
        if (c >= 0) {
          offsets.put(ps.tp, new OffsetAndMetadata(c));
        }
      }
      answer.complete(offsets);
    };
    long wait = drainOver ? 0 : options.drainTimeout().toMillis();
    if (wait == 0 || taken.stream().allMatch(ps -> ps.inHandler == 0)) {
      finish.run();
      return;
    }
    Runnable check = () -> {
      if (taken.stream().allMatch(ps -> ps.inHandler == 0)) {
        finish.run();
      }
    };
    taken.forEach(ps -> ps.drainWaiter = check);
    timer[0] = vertx.setTimer(wait, id -> {
      timer[0] = -1;
      int left = taken.stream().mapToInt(ps -> ps.inHandler).sum();
      LOG.warn("[kafka queue '{}'] {} record(s) of revoked partitions {} still in the handler after {} ms; committing "
        + "what is done, the rest is delivered again to the next owner", topic, left, revoked.keySet(), wait);
      finish.run();
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Commits

  private GroupConsumer.TaggedOffsets commitCandidates() {
    GroupConsumer.TaggedOffsets offsets = new GroupConsumer.TaggedOffsets();
    for (PartitionState ps : partitions.values()) {
      long c = ps.commitCandidate();
      if (c >= 0) {
        offsets.put(ps.tp, c, ps.generation);
      }
    }
    return offsets;
  }

  private void markCommitted(GroupConsumer.TaggedOffsets offsets) {
    offsets.forEach((tp, om) -> {
      PartitionState ps = partitions.get(tp);
      if (ps != null && ps.generation == offsets.generation(tp)) {
        ps.committed = Math.max(ps.committed, om.offset());
      }
    });
  }

  private void commitTick() {
    if (committing || consumer == null || consumerClosed) {
      return;
    }
    GroupConsumer.TaggedOffsets offsets = commitCandidates();
    if (offsets.isEmpty()) {
      return;
    }
    committing = true;
    consumer.commit(offsets, false).onComplete(ar -> committed(offsets, ar.cause()));
  }

  private void committed(GroupConsumer.TaggedOffsets offsets, Throwable error) {
    committing = false;
    if (error == null) {
      markCommitted(offsets);
      if (commitFailures > 0) {
        LOG.info("[kafka queue '{}'] offsets committed again after {} failure(s)", topic, commitFailures);
      }
      commitFailures = 0;
    } else {
      commitFailures++;
      if (commitFailures == 1 || commitFailures % 50 == 0) {
        LOG.warn("[kafka queue '{}'] offset commit failed ({} in a row); handled records stay uncommitted and the "
          + "commit is retried: {}", topic, commitFailures, error.toString());
      }
    }
  }

  private Future<Void> finalCommit() {
    if (consumer == null) {
      return Future.succeededFuture();
    }
    GroupConsumer.TaggedOffsets offsets = commitCandidates();
    if (offsets.isEmpty()) {
      return Future.succeededFuture();
    }
    return consumer.commit(offsets, true)
      .<Void>map(x -> {
        markCommitted(offsets);
        LOG.debug("[kafka queue '{}'] committed {} on close", topic, offsets);
        return null;
      })
      .recover(e -> {
        LOG.warn("[kafka queue '{}'] final offset commit failed; records handled since the last commit will be "
          + "delivered again: {}", topic, e.toString());
        return Future.succeededFuture();
      });
  }

  // ---------------------------------------------------------------------------------------------
  // Close

  @Override
  public Future<Void> close() {
    Promise<Void> p = Promise.promise();
    onContext(() -> shutdown().onComplete(p));
    return p.future();
  }

  /** Stop fetching, drain in-flight, commit, close the consumer, flush dead letters — in that order. */
  private Future<Void> shutdown() {
    if (shutdown != null) {
      return shutdown;
    }
    closing = true;
    ready = false;
    if (firstAssignment != null) {
      firstAssignment.tryFail(new StreamtoolsException(Transports.KAFKA, topic, "consumer loop closed while starting",
        null));
    }
    retryTimers.forEach(vertx::cancelTimer);
    retryTimers.clear();
    int dropped = 0;
    for (PartitionState ps : partitions.values()) {
      dropped += ps.dropQueued();
    }
    if (dropped > 0) {
      LOG.debug("[kafka queue '{}'] closing: {} fetched record(s) not started are left uncommitted", topic, dropped);
    }
    Future<Integer> drained = dispatcher == null ? Future.succeededFuture(0) : dispatcher.close(options.drainTimeout());
    shutdown = drained
      .compose(left -> {
        drainOver = true;
        return stopPollLoop();
      })
      .compose(v -> finalCommit())
      .compose(v -> {
        if (commitTimer != -1) {
          vertx.cancelTimer(commitTimer);
          commitTimer = -1;
        }
        consumerClosed = true;
        return consumer == null ? Future.<Void>succeededFuture() : consumer.close(COMMIT_TIMEOUT);
      })
      .compose(v -> {
        List<Future<Void>> closes = new ArrayList<>();
        deadLetterProducers.values().forEach(p -> closes.add(p.close()));
        return Future.join(closes).<Void>mapEmpty().recover(e -> Future.succeededFuture());
      })
      .onComplete(ar -> {
        ((VertxInternal) vertx).removeCloseHook(closeHook);
        if (started) {
          LOG.info("[kafka queue '{}'] consumer loop closed: {} record(s) received, {} acknowledged, {} retried, {} "
            + "dead-lettered", topic, received, acked, retried, deadLettered);
        }
      });
    return shutdown;
  }

  private void onContext(Runnable action) {
    if (Vertx.currentContext() == context) {
      action.run();
    } else {
      context.runOnContext(v -> action.run());
    }
  }
}
