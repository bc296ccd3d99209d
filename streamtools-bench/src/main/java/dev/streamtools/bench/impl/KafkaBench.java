package dev.streamtools.bench.impl;

import dev.streamtools.ConsumerLoop;
import dev.streamtools.Message;
import dev.streamtools.MessageHeaders;
import dev.streamtools.Producer;
import dev.streamtools.RouteOptions;
import dev.streamtools.Transports;
import dev.streamtools.spi.ContextInbox;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Sanitizer;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Kafka: the streamtools producer and consumer loop against kafka-clients' own {@link KafkaProducer} and a
 * {@link KafkaConsumer} poll loop, on the same broker, with the same client settings written once here and given
 * to both (the streamtools side through its settings).
 */
public final class KafkaBench {

  private static final Set<String> NAMED_TOPICS = ConcurrentHashMap.newKeySet();
  // read by several comparisons (the consume backlog): deleted with the run's last topics, not after one comparison
  private static final Set<String> SHARED_TOPICS = ConcurrentHashMap.newKeySet();

  static final int PARTITIONS = 3;
  /** Sends outstanding in the produce comparisons, on both sides. */
  static final int PRODUCE_WINDOW = 1024;
  /** Both sides commit handled offsets this often (the streamtools default, KAFKA_COMMIT_INTERVAL_MS). */
  static final long COMMIT_INTERVAL_MS = 100;
  /**
   * Every consumer's {@code fetch.max.wait.ms}, on both sides. With Kafka's 500 ms a backlog round lost 0, 1, 2 or 3
   * times about half a second, at random, on either side: a consumer has one fetch to a broker in flight, a fetch
   * made of partitions already read to their end waits that long at the broker, and the partitions that still had
   * records waited behind it. Backlog times then came in steps (0.6, 1.1, 1.5, 1.9 s for the same 2 M records).
   */
  static final int FETCH_MAX_WAIT_MS = 10;
  /**
   * Measured rounds per side of kafka.consume and its raw-vs-raw reference, whatever {@code --rounds} says: a round
   * drains the backlog in about half a second, and seven-round runs of the same code gave medians of 0.74 to 1.07
   * (eighteenth session, BENCHMARKS.md), each pair between 0.54 and 1.1.
   */
  static final int BACKLOG_ROUNDS = 11;
  /**
   * Every benchmark topic's {@code segment.bytes}: 64 MiB, not Kafka's 1 GiB. A partition that fills a segment rolls
   * it and then fsyncs the old one, a gigabyte at once. Each side writes its own topic, which at 100 B filled a 1 GiB
   * segment about once every 25 s of that side's rounds: a roll and its fsync fell in some rounds of a side and not
   * in others (in one run, the streamtools round that held its topic's three rolls was its slowest of eight, 441 k/s
   * against 461-556 k/s). With 64 MiB segments every round of both sides rolls a few, each fsync 1/16 the size.
   */
  static final int SEGMENT_BYTES = 64 << 20;
  /**
   * What each partition of a topic the comparisons write keeps ({@code retention.bytes}, checked every second by the
   * broker scripts/brokers.sh starts): 4 segments. A 1 KB produce comparison writes some 10 GB, which the broker's
   * data directory (tmpfs for the benchmark, see scripts/bench.sh) does not need to hold; a backlog topic keeps all.
   */
  static final long WRITTEN_TOPIC_RETENTION_BYTES = 4L * SEGMENT_BYTES;

  private KafkaBench() {
  }

  private static String threading(String comparison) {
    return "; both sides are the raw client with the record streamtools sends, the second (the streamtools column) "
      + "threaded as streamtools' producer is: what that threading alone costs the raw client, beside what "
      + comparison + " loses";
  }

  private static String eventLoop(String comparison) {
    return "; the raw side is the raw client with the record streamtools sends, threaded as streamtools' producer is "
      + "(as the second side of " + comparison + ".threading): what streamtools' producer costs beyond that threading";
  }

  static String bootstrap() {
    String b = System.getenv("KAFKA_BOOTSTRAP_SERVERS");
    return b == null || b.isBlank() ? "127.0.0.1:9092" : b;
  }

  /**
   * @param vertx the run's Vert.x
   * @param o options
   * @return the Kafka comparisons
   */
  public static List<Comparison> comparisons(Vertx vertx, BenchOptions o) {
    Backlog backlog = new Backlog("consume", o.kafkaBacklog);
    String produce = "acks=all, idempotent, linger.ms=5, batch.size=65536, " + PARTITIONS + " partitions, "
      + PRODUCE_WINDOW + " sends outstanding";
    String same = "; the raw side sends the record streamtools sends (message-id and content-type headers, "
      + "timestamp)";
    String bare = "; the raw side sends the body alone: what the two headers cost";
    // A ratio that is 1 by construction: how far this machine and broker move a pair of rounds, the worst above all
    String aa = "; both sides are the raw client with the record streamtools sends, each with its own producer and "
      + "topic (the streamtools column is the second raw producer): the spread of a ratio that is 1 by construction";
    return List.of(
      new Comparison("kafka.produce.100B", "100 B, " + produce + same, Goal.throughput(0.95, 0.90),
        new RawProduce(o, 100, 5, true), new StProduce(vertx, o, 100, 5), true).inSlices(),
      new Comparison("kafka.produce.1KB", "1 KB, " + produce + same, Goal.throughput(0.95, 0.90),
        new RawProduce(o, 1024, 5, true), new StProduce(vertx, o, 1024, 5), true).inSlices(),
      new Comparison("kafka.produce.100B.raw-vs-raw", "100 B, " + produce + aa, Goal.none(),
        new RawProduce(o, 100, 5, true), new RawProduce(o, 100, 5, true), true).inSlices(),
      new Comparison("kafka.produce.1KB.raw-vs-raw", "1 KB, " + produce + aa, Goal.none(),
        new RawProduce(o, 1024, 5, true), new RawProduce(o, 1024, 5, true), true).inSlices(),
      new Comparison("kafka.produce.100B.threading", "100 B, " + produce + threading("kafka.produce.100B"),
        Goal.none(), new RawProduce(o, 100, 5, true), new RawProduce(o, 100, 5, true, vertx), true).inSlices(),
      new Comparison("kafka.produce.1KB.threading", "1 KB, " + produce + threading("kafka.produce.1KB"),
        Goal.none(), new RawProduce(o, 1024, 5, true), new RawProduce(o, 1024, 5, true, vertx), true).inSlices(),
      new Comparison("kafka.produce.100B.eventloop", "100 B, " + produce + eventLoop("kafka.produce.100B"),
        Goal.none(), new RawProduce(o, 100, 5, true, vertx), new StProduce(vertx, o, 100, 5), true).inSlices(),
      new Comparison("kafka.produce.1KB.eventloop", "1 KB, " + produce + eventLoop("kafka.produce.1KB"),
        Goal.none(), new RawProduce(o, 1024, 5, true, vertx), new StProduce(vertx, o, 1024, 5), true).inSlices(),
      new Comparison("kafka.produce.100B.bare", "100 B, " + produce + bare, Goal.none(),
        new RawProduce(o, 100, 5, false), new StProduce(vertx, o, 100, 5), true).inSlices(),
      new Comparison("kafka.produce.100B.vertx-client", "100 B, " + produce + "; the raw side is vertx-kafka-client "
        + "used directly (the record streamtools sends): what running on Vert.x costs", Goal.none(),
        new VertxKafkaClientSides.Produce(vertx, o, 100, 5), new StProduce(vertx, o, 100, 5), true).inSlices(),
      new Comparison("kafka.consume", "backlog of " + o.kafkaBacklog + " x 100 B in " + PARTITIONS
        + " partitions, a new group per round, at-least-once: handled offsets committed every "
        + COMMIT_INTERVAL_MS + " ms; time from first to last record; at least " + BACKLOG_ROUNDS + " measured rounds "
        + "per side, as a round of half a second varies widely", Goal.throughput(0.90),
        new RawConsume(o, backlog, false), new StConsume(vertx, o, backlog, false), false, BACKLOG_ROUNDS),
      new Comparison("kafka.consume.raw-vs-raw", "the backlog above and as many rounds; both sides are the raw poll "
        + "loop, each with its own groups (the streamtools column is the second raw loop): the spread of a ratio "
        + "that is 1 by construction", Goal.none(), new RawConsume(o, backlog, false),
        new RawConsume(o, backlog, false), false, BACKLOG_ROUNDS),
      new Comparison("kafka.consume.fields", "the backlog above; both handlers read each record's key, as a String, "
        + "and its body (the raw side the value's byte[], streamtools a Buffer copy of it): what a handler that "
        + "reads its message pays; the kafka.consume handlers read nothing", Goal.none(),
        new RawConsume(o, backlog, true), new StConsume(vertx, o, backlog, true), false),
      new Comparison("kafka.consume.handoff", "the backlog above; the raw side hands each polled batch to a "
        + "second thread that handles it (a queue of " + HANDOFF_BATCHES + " batches), as a toolkit that runs "
        + "handlers off the poll thread must; handled offsets committed on the poll thread every "
        + COMMIT_INTERVAL_MS + " ms", Goal.none(),
        new RawHandOffConsume(backlog), new StConsume(vertx, o, backlog, false), false),
      new Comparison("kafka.consume.eventloop", "the backlog above; the raw side is threaded as streamtools' loop "
        + "is, with none of its work per record: the poll thread polls when an event loop asks, "
        + EVENT_LOOP_POLLS_AHEAD + " polls ahead, and the event loop counts each batch's records", Goal.none(),
        new RawEventLoopConsume(vertx, backlog, EVENT_LOOP_POLLS_AHEAD), new StConsume(vertx, o, backlog, false), false),
      new Comparison("kafka.consume.eventloop.deep", "the backlog above; the raw side as in kafka.consume.eventloop, "
        + "but " + EVENT_LOOP_DEEP_POLLS_AHEAD + " polls ahead: what asking further ahead gives that threading",
        Goal.none(), new RawEventLoopConsume(vertx, backlog, EVENT_LOOP_DEEP_POLLS_AHEAD),
        new StConsume(vertx, o, backlog, false), false),
      new Comparison("kafka.consume.vertx-client", "the backlog above; the raw side is vertx-kafka-client used "
        + "directly: what running on Vert.x costs", Goal.none(),
        new VertxKafkaClientSides.Consume(vertx, backlog), new StConsume(vertx, o, backlog, false), false),
      new Comparison("kafka.rtt", "100 B, 1 partition, linger.ms=0, acks=all: send, then wait until the consumer "
        + "got it and the send was acknowledged, one at a time; streamtools' producer and consumer loop share an "
        + "event loop, as one verticle's do", Goal.throughput(0.90),
        new RawRtt(null, RttThreading.POLL_THREAD), new StRtt(vertx, o, false), true).inSlices(),
      new Comparison("kafka.rtt.handoff", "100 B, 1 partition, linger.ms=0, acks=all, one at a time, as above; the raw "
        + "poll thread hands each polled batch to a handler thread, as a toolkit that runs handlers off the poll thread "
        + "must", Goal.none(), new RawRtt(null, RttThreading.HAND_OFF), new StRtt(vertx, o, false), true).inSlices(),
      new Comparison("kafka.rtt.eventloop", "100 B, 1 partition, linger.ms=0, acks=all, one at a time, as above; the "
        + "raw clients are threaded as streamtools' are, with none of its work: sends on an event loop, the "
        + "acknowledgement handed to it, the poll thread handing each polled batch to that event loop, which "
        + "completes the send's wait", Goal.none(), new RawRtt(vertx, RttThreading.EVENT_LOOP),
        new StRtt(vertx, o, false), true).inSlices(),
      new Comparison("kafka.rtt.threading", "100 B, 1 partition, linger.ms=0, acks=all, one at a time, as above; both "
        + "sides are the raw clients, the second (the streamtools column) threaded as in kafka.rtt.eventloop: what "
        + "that threading alone costs the raw round trip, beside what kafka.rtt loses", Goal.none(),
        new RawRtt(null, RttThreading.POLL_THREAD), new RawRtt(vertx, RttThreading.EVENT_LOOP), true).inSlices(),
      new Comparison("kafka.rtt.two-loops", "100 B, 1 partition, linger.ms=0, acks=all, one at a time, as above; "
        + "the streamtools column runs its consumer loop on a second event loop, so a received record reaches the "
        + "sender through one more hand-over than the raw poll thread's (as kafka.rtt measured before 2026-12-05)",
        Goal.none(), new RawRtt(null, RttThreading.POLL_THREAD), new StRtt(vertx, o, true), true).inSlices(),
      new Comparison("kafka.rtt.vertx-client", "100 B, 1 partition, linger.ms=0, acks=all, one at a time, as above; the "
        + "raw side is vertx-kafka-client used directly: what running on Vert.x costs", Goal.none(),
        new VertxKafkaClientSides.Rtt(vertx, o), new StRtt(vertx, o, false), true).inSlices());
  }

  static Properties producerProps(int lingerMs) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, Integer.toString(lingerMs));
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, "65536");
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
    return p;
  }

  /** The same producer settings, as streamtools settings. */
  static JsonObject streamtoolsConfig(int lingerMs) {
    return new JsonObject()
      .put("KAFKA_BOOTSTRAP_SERVERS", bootstrap())
      .put("KAFKA_ACKS", "all")
      .put("KAFKA_ENABLE_IDEMPOTENCE", true)
      .put("KAFKA_LINGER_MS", lingerMs)
      .put("KAFKA_BATCH_SIZE", 65536)
      .put("KAFKA_COMPRESSION_TYPE", "none")
      .put("KAFKA_TOPIC_PARTITIONS", PARTITIONS)
      .put("KAFKA_COMMIT_INTERVAL_MS", COMMIT_INTERVAL_MS)
      .put("kafka.consumer." + ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, FETCH_MAX_WAIT_MS);
  }

  static Properties consumerProps(String group) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, Integer.toString(FETCH_MAX_WAIT_MS));
    return p;
  }

  /** Creates a topic a comparison writes, keeping {@link #WRITTEN_TOPIC_RETENTION_BYTES} per partition. */
  static void createTopic(String topic, int partitions) throws Exception {
    createTopic(topic, partitions, WRITTEN_TOPIC_RETENTION_BYTES);
  }

  /** @param retentionBytes what each partition keeps; -1: everything (a backlog the rounds read) */
  static void createTopic(String topic, int partitions, long retentionBytes) throws Exception {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
    try (Admin admin = Admin.create(p)) {
      NewTopic nt = new NewTopic(topic, partitions, (short) 1)
        .configs(Map.of(TopicConfig.SEGMENT_BYTES_CONFIG, Integer.toString(SEGMENT_BYTES),
          TopicConfig.RETENTION_BYTES_CONFIG, Long.toString(retentionBytes)));
      admin.createTopics(List.of(nt)).all().get(60, TimeUnit.SECONDS);
      // A produce that reached the broker before it knew itself leader got NOT_LEADER_OR_FOLLOWER, and the
      // idempotent producer's retries then OUT_OF_ORDER_SEQUENCE_NUMBER until the delivery timeout: wait until
      // the broker answers with a leader for every partition (each describe is a round trip to it).
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (true) {
        TopicDescription d = null;
        try {
          d = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
        } catch (ExecutionException e) {
          // the broker that answers may not know the topic it just created yet
          if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
            throw e;
          }
        }
        if (d != null && d.partitions().size() == partitions
          && d.partitions().stream().allMatch(tp -> tp.leader() != null)) {
          return;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("topic " + topic + " has no leader for every partition after 30 s: " + d);
        }
      }
    }
  }

  static String topic(String what) {
    String name = "bench-" + what + "-" + UUID.randomUUID().toString().substring(0, 8);
    NAMED_TOPICS.add(name);
    return name;
  }

  /**
   * Deletes the topics this run named (and their dead-letter topics): the produce comparisons write several GB
   * each. Deleted only at the end of the run, a full run's 40 GB and a stopped run's left behind filled the disk.
   *
   * @param progress where to say what was deleted
   * @param shared whether the topics several comparisons read (the consume backlog) go too
   */
  static void deleteTopics(PrintStream progress, boolean shared) {
    Set<String> named = new HashSet<>(NAMED_TOPICS);
    if (!shared) {
      named.removeAll(SHARED_TOPICS);
    }
    if (named.isEmpty()) {
      return;
    }
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
    try (Admin admin = Admin.create(p)) {
      Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      List<String> ours = existing.stream()
        .filter(t -> named.contains(t) || t.endsWith(".dlq") && named.contains(t.substring(0, t.length() - 4)))
        .collect(Collectors.toList());
      if (!ours.isEmpty()) {
        admin.deleteTopics(ours).all().get(60, TimeUnit.SECONDS);
      }
      NAMED_TOPICS.removeAll(named);
      progress.printf("   (deleted %d Kafka topics)%n", ours.size());
    } catch (Exception e) {
      progress.println("could not delete the Kafka topics " + named + ": " + e);
    }
  }

  /** A backlog fill's bound on one produce request, and on each record's delivery (retries included). */
  private static final int FILL_REQUEST_TIMEOUT_MS = 10_000;
  private static final int FILL_DELIVERY_TIMEOUT_MS = 20_000;

  /** Writes {@code count} records of 100 B, keyed by their sequence number, and waits for all acks. */
  static void fill(String topic, int count) throws Exception {
    byte[] body = Payloads.json(100).getBytes();
    AtomicReference<Exception> failure = new AtomicReference<>();
    Properties props = producerProps(5);
    // A fill takes a few seconds; one that met the broker's leader-election race (Backlog.name) retried until
    // Kafka's default delivery timeout, 120 s, before a new topic could be filled.
    props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Integer.toString(FILL_REQUEST_TIMEOUT_MS));
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Integer.toString(FILL_DELIVERY_TIMEOUT_MS));
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(props, new ByteArraySerializer(),
      new ByteArraySerializer())) {
      for (int i = 0; i < count; i++) {
        p.send(new ProducerRecord<>(topic, Integer.toString(i).getBytes(), body), (md, e) -> {
          if (e != null) {
            failure.compareAndSet(null, e);
          }
        });
      }
      p.flush();
    }
    if (failure.get() != null) {
      throw failure.get();
    }
  }

  /** One backlog topic, filled once, read by every consume round of both sides with a new group. */
  static final class Backlog {
    final String what;
    final int count;
    String topic;

    Backlog(String what, int count) {
      this.what = what;
      this.count = count;
    }

    synchronized String name() throws Exception {
      for (int attempt = 1; topic == null; attempt++) {
        String t = topic(what);
        createTopic(t, PARTITIONS, -1);
        long t0 = System.nanoTime();
        try {
          fill(t, count);
        } catch (Exception e) {
          // Seen once on the local broker: a produce to a topic created a moment before got NOT_LEADER_OR_FOLLOWER,
          // then OUT_OF_ORDER_SEQUENCE_NUMBER on every retry until the fill's delivery timeout. A new topic is
          // filled instead; the broken one is deleted with the run's others.
          if (attempt == 2) {
            throw e;
          }
          System.err.printf("   (filling %s failed: %s; filling a new topic)%n", t, e);
          continue;
        }
        System.err.printf("   (backlog of %d records written to %s in %.1f s)%n", count, t,
          (System.nanoTime() - t0) / 1e9);
        SHARED_TOPICS.add(t);
        topic = t;
      }
      return topic;
    }
  }

  private static final byte[] CONTENT_TYPE = Message.APPLICATION_JSON.getBytes(StandardCharsets.UTF_8);

  /** Turns the two producers take in loading the broker before the first Kafka comparison. */
  static final int BROKER_WARMUP_TURNS = 6;

  /**
   * Loads the broker for {@code --kafka-warmup} seconds with the produce comparisons' two producers (100 B records),
   * in {@value #BROKER_WARMUP_TURNS} alternating turns, so that the first Kafka comparison's rounds meet neither a
   * broker just started (on one, the raw side's first round of kafka.produce.100B ran at 333 k/s and its next four at
   * 634-746 k/s) nor code that only one side has run: loaded by the raw producer alone, the JIT had compiled the
   * Kafka client's send path for it, and streamtools' side of kafka.produce.100B, the first comparison, still sped up
   * through the measured rounds (868 k records/s in the first, 1,089 k in the last; the raw side 1,039 k and 1,103 k),
   * its pairs 0.835, 0.868, 0.910, 0.844 and 0.987 (twenty-third session).
   *
   * @param vertx the run's Vert.x, for streamtools' producer
   * @param o options
   * @param progress where to say what it did
   * @return whether the broker was loaded ({@code --kafka-warmup} above 0 and every send acknowledged)
   */
  static boolean warmBroker(Vertx vertx, BenchOptions o, PrintStream progress) {
    if (o.kafkaWarmupSeconds <= 0) {
      return false;
    }
    Side[] sides = {new RawProduce(o, 100, 5, true), new StProduce(vertx, o, 100, 5)};
    long[] ops = new long[sides.length];
    long errors = 0;
    long turnNanos = (long) (o.kafkaWarmupSeconds * 1e9 / BROKER_WARMUP_TURNS);
    long start = System.nanoTime();
    try {
      for (Side side : sides) {
        side.open();
      }
      for (int turn = 0; turn < BROKER_WARMUP_TURNS; turn++) {
        RoundResult r = sides[turn % sides.length].round(turn, turnNanos);
        ops[turn % sides.length] += r.ops();
        errors += r.errors();
      }
      progress.printf(Locale.ROOT, "== Kafka broker warmed up: %d records of 100 B by the raw producer and %d by "
          + "streamtools', in %d alternating turns over %.0f s%s%n", ops[0], ops[1], BROKER_WARMUP_TURNS,
        (System.nanoTime() - start) / 1e9, errors > 0 ? ", " + errors + " failed" : "");
      return errors == 0;
    } catch (Exception e) {
      progress.println("== warming the Kafka broker up failed: " + Harness.describe(e)
        + " (the Kafka comparisons will say whether it is reachable)");
      return false;
    } finally {
      for (Side side : sides) {
        try {
          side.close();
        } catch (Exception e) {
          progress.println("   (closing a warm-up producer: " + Harness.describe(e) + ")");
        }
      }
    }
  }

  /**
   * A producer's own counters, read from the MBean the Kafka client registers under its {@code client.id}, so
   * that streamtools' producer, whose client the benchmark cannot reach, is read as the raw one is.
   */
  static final class ProducerCounters {
    private final ObjectName mbean;
    private double records;
    private double requests;

    /** @param clientId the producer's {@code client.id} */
    ProducerCounters(String clientId) {
      try {
        this.mbean = new ObjectName("kafka.producer:type=producer-metrics,client-id="
          + Sanitizer.jmxSanitize(clientId));
      } catch (MalformedObjectNameException e) {
        throw new IllegalArgumentException("client.id " + clientId + " cannot name an MBean", e);
      }
    }

    /** @return the records sent and the produce requests that carried them since the previous call */
    String sinceLastCall() {
      MBeanServer server = ManagementFactory.getPlatformMBeanServer();
      double recordsNow;
      double requestsNow;
      try {
        recordsNow = (Double) server.getAttribute(mbean, "record-send-total");
        requestsNow = (Double) server.getAttribute(mbean, "request-total");
      } catch (JMException e) {
        throw new IllegalStateException("the producer's counters " + mbean + " cannot be read", e);
      }
      double r = recordsNow - records;
      double q = requestsNow - requests;
      records = recordsNow;
      requests = requestsNow;
      return String.format(Locale.ROOT, "%.1f records per request (%.0f records in %.0f requests)", r / q, r, q);
    }
  }

  /** @return the record streamtools sends for a message: a new message-id header, content-type, timestamp */
  static ProducerRecord<byte[], byte[]> recordWithHeaders(String topic, byte[] body) {
    RecordHeaders headers = new RecordHeaders();
    ThreadLocalRandom random = ThreadLocalRandom.current();
    headers.add(MessageHeaders.MESSAGE_ID,
      new UUID(random.nextLong(), random.nextLong()).toString().getBytes(StandardCharsets.UTF_8));
    headers.add(MessageHeaders.CONTENT_TYPE, CONTENT_TYPE);
    return new ProducerRecord<>(topic, null, System.currentTimeMillis(), null, body, headers);
  }

  /**
   * The raw producer, its sends from a thread that keeps a semaphore window; or, given a Vert.x, threaded as
   * streamtools' producer is, with none of its work: the sends start on an event loop, and each send's outcome comes
   * back to that loop from the client's network thread through a {@link ContextInbox}, in batches, as streamtools'
   * producer hands its acknowledgements over; there it completes the send's Future. So the loop both sends and
   * completes, where the raw sending thread only sends and the network thread completes.
   */
  private static final class RawProduce implements Side {
    private final BenchOptions o;
    private final byte[] body;
    private final int lingerMs;
    private final boolean sameRecord;
    // event-loop threading only
    private final Vertx vertx;
    private Context context;
    private ContextInbox outcomes;
    private KafkaProducer<byte[], byte[]> producer;
    private ProducerCounters counters;
    private String topic;

    RawProduce(BenchOptions o, int size, int lingerMs, boolean sameRecord) {
      this(o, size, lingerMs, sameRecord, null);
    }

    /** @param vertx the run's Vert.x, to send from one of its event loops; null: from the harness's thread */
    RawProduce(BenchOptions o, int size, int lingerMs, boolean sameRecord, Vertx vertx) {
      this.o = o;
      this.body = Payloads.json(size).getBytes();
      this.lingerMs = lingerMs;
      this.sameRecord = sameRecord;
      this.vertx = vertx;
    }

    @Override
    public String label() {
      return "KafkaProducer<byte[],byte[]>.send with callback, "
        + (vertx == null ? "semaphore window"
          : "from one event loop, Future window; each outcome handed back to the loop through a ContextInbox")
        + (sameRecord ? "; each record with a new id header, the content-type header and a timestamp" : "");
    }

    private ProducerRecord<byte[], byte[]> record() {
      if (!sameRecord) {
        return new ProducerRecord<>(topic, body);
      }
      return recordWithHeaders(topic, body);
    }

    @Override
    public void open() throws Exception {
      topic = topic(vertx == null ? "produce-raw" : "produce-eventloop");
      createTopic(topic, PARTITIONS);
      if (vertx != null) {
        context = Vx.newContext(vertx);
        outcomes = new ContextInbox(context);
      }
      Properties props = producerProps(lingerMs);
      props.put(ProducerConfig.CLIENT_ID_CONFIG, topic);
      producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
      counters = new ProducerCounters(topic);
    }

    @Override
    public String clientCounters() {
      return counters.sinceLastCall();
    }

    @Override
    public RoundResult round(int index, long durationNanos) throws Exception {
      if (vertx != null) {
        return AsyncWindow.run(context, PRODUCE_WINDOW, durationNanos, () -> {
          Promise<Void> sent = Promise.promise();
          producer.send(record(), (md, e) -> outcomes.submit(() -> {
            if (e == null) {
              sent.complete();
            } else {
              sent.fail(e);
            }
          }));
          return sent.future();
        });
      }
      return ThreadWindow.run(PRODUCE_WINDOW, durationNanos, done ->
        producer.send(record(), (md, e) -> done.accept(e)));
    }

    @Override
    public void close() {
      if (producer != null) {
        producer.close(Duration.ofSeconds(30));
      }
    }
  }

  private static final class StProduce implements Side {
    private final Vertx vertx;
    private final BenchOptions o;
    private final Buffer body;
    private final int lingerMs;
    private Context context;
    private Producer producer;
    private ProducerCounters counters;

    StProduce(Vertx vertx, BenchOptions o, int size, int lingerMs) {
      this.vertx = vertx;
      this.o = o;
      this.body = Payloads.json(size);
      this.lingerMs = lingerMs;
    }

    @Override
    public String label() {
      return "kafka Producer.send from one event loop, Future window";
    }

    @Override
    public void open() throws Exception {
      Vx.requireTransport(Transports.KAFKA);
      String topic = topic("produce-st");
      createTopic(topic, PARTITIONS);
      context = Vx.newContext(vertx);
      JsonObject config = streamtoolsConfig(lingerMs).put("kafka.producer." + ProducerConfig.CLIENT_ID_CONFIG, topic);
      producer = Vx.on(context, () -> Future.succeededFuture(
        Transports.PRODUCERS.get(Transports.KAFKA).create(vertx, topic, config)));
      Vx.on(context, producer::init);
      counters = new ProducerCounters(topic);
    }

    @Override
    public String clientCounters() {
      return counters.sinceLastCall();
    }

    @Override
    public RoundResult round(int index, long durationNanos) throws Exception {
      return AsyncWindow.run(context, PRODUCE_WINDOW, durationNanos, () -> producer.send(
        Message.builder().body(body).contentType(Message.APPLICATION_JSON).build()));
    }

    @Override
    public void close() throws Exception {
      if (producer != null) {
        Vx.await(producer.close());
      }
    }
  }

  /** Polled batches the hand-off reference lets wait for its handler thread. */
  static final int HANDOFF_BATCHES = 2;
  /** Polls the event-loop reference asks ahead: as the streamtools loop's POLLS_AHEAD. */
  static final int EVENT_LOOP_POLLS_AHEAD = 2;
  /** ... and in its deep variant, which sizes what asking further ahead would give. */
  static final int EVENT_LOOP_DEEP_POLLS_AHEAD = 16;

  /** One step of a reference side's poll thread: a poll, and handing its records over. */
  private interface PollStep {
    void run(KafkaConsumer<byte[], byte[]> consumer) throws Exception;
  }

  /**
   * Starts the poll thread of a reference side that handles records on another thread: it subscribes a new
   * consumer in {@code group} to the backlog, runs {@code step} until {@code stop} is set, and commits
   * {@code handledOffsets} (filled by the handling thread) every {@value #COMMIT_INTERVAL_MS} ms and once more
   * before it closes the consumer.
   *
   * @return completes when the consumer is closed, or with what the thread threw
   */
  private static CompletableFuture<Void> startPollThread(String name, String group, Backlog backlog,
                                                         AtomicBoolean stop,
                                                         Map<TopicPartition, OffsetAndMetadata> handledOffsets,
                                                         PollStep step) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    new Thread(() -> {
      try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(consumerProps(group), new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
        c.subscribe(List.of(backlog.name()));
        long nextCommit = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(COMMIT_INTERVAL_MS);
        while (!stop.get()) {
          step.run(c);
          if (System.nanoTime() >= nextCommit && !handledOffsets.isEmpty()) {
            c.commitAsync(new HashMap<>(handledOffsets), null);
            nextCommit = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(COMMIT_INTERVAL_MS);
          }
        }
        c.commitSync(new HashMap<>(handledOffsets));
        done.complete(null);
      } catch (Exception e) {
        done.completeExceptionally(e);
      }
    }, name).start();
    return done;
  }

  /**
   * A raw KafkaConsumer whose poll thread hands each batch to a handler thread: the least any toolkit pays that
   * does not run handlers on the poll thread. Offsets handled are committed by the poll thread, which alone may
   * touch the consumer.
   */
  private static final class RawHandOffConsume implements Side {
    private final Backlog backlog;
    private final String group = "bench-handoff-" + UUID.randomUUID();

    RawHandOffConsume(Backlog backlog) {
      this.backlog = backlog;
    }

    @Override
    public String label() {
      return "KafkaConsumer poll thread (poll 100 ms) -> ArrayBlockingQueue(" + HANDOFF_BATCHES + ") -> handler "
        + "thread; commitAsync of handled offsets every " + COMMIT_INTERVAL_MS + " ms on the poll thread";
    }

    @Override
    public void open() throws Exception {
      backlog.name();
    }

    @Override
    public RoundResult round(int index, long durationNanos) throws Exception {
      ArrayBlockingQueue<ConsumerRecords<byte[], byte[]>> batches =
        new ArrayBlockingQueue<>(HANDOFF_BATCHES);
      Map<TopicPartition, OffsetAndMetadata> handledOffsets = new ConcurrentHashMap<>();
      AtomicBoolean stop = new AtomicBoolean();
      CompletableFuture<Void> pollerDone = startPollThread("bench-kafka-handoff-poller", group + "-" + index,
        backlog, stop, handledOffsets, c -> {
          ConsumerRecords<byte[], byte[]> records = c.poll(Duration.ofMillis(100));
          if (!records.isEmpty()) {
            batches.put(records);
          }
        });
      long first = 0;
      long last = 0;
      long handled = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      try {
        while (handled < backlog.count) {
          ConsumerRecords<byte[], byte[]> records = batches.poll(100, TimeUnit.MILLISECONDS);
          if (System.nanoTime() > deadline || pollerDone.isCompletedExceptionally()) {
            pollerDone.getNow(null);
            throw new IllegalStateException("only " + handled + " of " + backlog.count + " records in 120 s");
          }
          if (records == null) {
            continue;
          }
          for (ConsumerRecord<byte[], byte[]> r : records) {
            if (handled++ == 0) {
              first = System.nanoTime();
            }
            handledOffsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
          }
          last = System.nanoTime();
        }
      } finally {
        stop.set(true);
        batches.clear(); // a poll thread blocked in put() sees the stop
      }
      pollerDone.get(30, TimeUnit.SECONDS);
      return new RoundResult(handled - 1, last - first, Double.NaN, Double.NaN, 0);
    }

    @Override
    public void close() {
    }
  }

  /**
   * A raw KafkaConsumer threaded as streamtools' Kafka loop is, with none of its work per record: the poll thread
   * polls only when the event loop asks, some polls ahead ({@value #EVENT_LOOP_POLLS_AHEAD} as streamtools, or
   * {@value #EVENT_LOOP_DEEP_POLLS_AHEAD}), and hands each batch to the
   * event loop (one context task per poll), which counts the records, notes their offsets and asks for the next
   * poll. Handled offsets are committed by the poll thread every {@value #COMMIT_INTERVAL_MS} ms. What this side
   * loses against the plain raw loop is the cost of running handlers on a Vert.x event loop with a poll bound;
   * what streamtools loses against it is streamtools' own work per record.
   */
  private static final class RawEventLoopConsume implements Side {
    private final Vertx vertx;
    private final Backlog backlog;
    private final int pollsAhead;
    private final String group = "bench-eventloop-" + UUID.randomUUID();
    private Context context;

    RawEventLoopConsume(Vertx vertx, Backlog backlog, int pollsAhead) {
      this.vertx = vertx;
      this.backlog = backlog;
      this.pollsAhead = pollsAhead;
    }

    @Override
    public String label() {
      return "KafkaConsumer poll thread (poll 100 ms), polling when the event loop asks, " + pollsAhead
        + " polls ahead -> runOnContext per poll -> record count on the event loop; commitAsync of handled offsets "
        + "every " + COMMIT_INTERVAL_MS + " ms on the poll thread";
    }

    @Override
    public void open() throws Exception {
      backlog.name();
      context = Vx.newContext(vertx);
    }

    @Override
    public RoundResult round(int index, long durationNanos) throws Exception {
      Semaphore pollsAsked = new Semaphore(pollsAhead);
      Map<TopicPartition, OffsetAndMetadata> handledOffsets = new ConcurrentHashMap<>();
      AtomicBoolean stop = new AtomicBoolean();
      CompletableFuture<Void> all = new CompletableFuture<>();
      Tally tally = new Tally();
      CompletableFuture<Void> pollerDone = startPollThread("bench-kafka-eventloop-poller", group + "-" + index,
        backlog, stop, handledOffsets, c -> {
          if (!pollsAsked.tryAcquire(100, TimeUnit.MILLISECONDS)) {
            return;
          }
          ConsumerRecords<byte[], byte[]> records = c.poll(Duration.ofMillis(100));
          context.runOnContext(v -> {
            // plain fields, as streamtools' handler in this comparison: only this context touches them
            for (ConsumerRecord<byte[], byte[]> r : records) {
              long n = ++tally.handled;
              if (n == 1) {
                tally.first = System.nanoTime();
              }
              handledOffsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
              if (n == backlog.count) {
                tally.last = System.nanoTime();
                all.complete(null);
              }
            }
            pollsAsked.release();
          });
        });
      pollerDone.whenComplete((v, e) -> {
        if (e != null) {
          all.completeExceptionally(e);
        }
      });
      try {
        all.get(120, TimeUnit.SECONDS);
      } finally {
        stop.set(true);
      }
      pollerDone.get(30, TimeUnit.SECONDS);
      // read on this thread after the context completed `all`, which published them
      return new RoundResult(tally.handled - 1, tally.last - tally.first, Double.NaN, Double.NaN, 0);
    }

    @Override
    public void close() {
    }
  }

  private static final class RawConsume implements Side {
    private final BenchOptions o;
    private final Backlog backlog;
    private final String group = "bench-raw-" + UUID.randomUUID();
    private final boolean readFields;

    RawConsume(BenchOptions o, Backlog backlog, boolean readFields) {
      this.o = o;
      this.backlog = backlog;
      this.readFields = readFields;
    }

    @Override
    public String label() {
      return "KafkaConsumer poll loop (poll 100 ms), commitAsync of handled offsets every " + COMMIT_INTERVAL_MS
        + " ms" + (readFields ? "; reads each key as a String and each value's length" : "");
    }

    @Override
    public void open() throws Exception {
      backlog.name();
    }

    @Override
    public RoundResult round(int index, long durationNanos) throws Exception {
      long first = 0;
      long last = 0;
      long handled = 0;
      long read = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
      try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(consumerProps(group + "-" + index),
        new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
        c.subscribe(List.of(backlog.name()));
        long nextCommit = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(COMMIT_INTERVAL_MS);
        while (handled < backlog.count) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("only " + handled + " of " + backlog.count + " records in 120 s");
          }
          ConsumerRecords<byte[], byte[]> records = c.poll(Duration.ofMillis(100));
          for (ConsumerRecord<byte[], byte[]> r : records) {
            if (handled++ == 0) {
              first = System.nanoTime();
            }
            if (readFields) {
              read += new String(r.key(), StandardCharsets.UTF_8).length() + r.value().length;
            }
            done.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
          }
          last = System.nanoTime();
          if (last >= nextCommit && !done.isEmpty()) {
            c.commitAsync(new HashMap<>(done), null);
            done.clear();
            nextCommit = last + TimeUnit.MILLISECONDS.toNanos(COMMIT_INTERVAL_MS);
          }
        }
        c.commitSync(done);
      }
      if (readFields && read == 0) {
        throw new IllegalStateException("read no key or body");
      }
      return new RoundResult(handled - 1, last - first, Double.NaN, Double.NaN, 0);
    }

    @Override
    public void close() {
    }
  }

  /** What a consume round's handler counts, on its context. */
  private static final class Tally {
    long handled;
    long read;
    long first;
    long last;
  }

  private static final class StConsume implements Side {
    private final Vertx vertx;
    private final BenchOptions o;
    private final Backlog backlog;
    private final String group = "bench-st-" + UUID.randomUUID();
    private final boolean readFields;
    private Context context;

    StConsume(Vertx vertx, BenchOptions o, Backlog backlog, boolean readFields) {
      this.vertx = vertx;
      this.o = o;
      this.backlog = backlog;
      this.readFields = readFields;
    }

    @Override
    public String label() {
      return "kafka ConsumerLoop, handler succeeds at once, RouteOptions defaults"
        + (readFields ? "; reads each message's key and body length" : "");
    }

    @Override
    public void open() throws Exception {
      Vx.requireTransport(Transports.KAFKA);
      backlog.name();
      context = Vx.newContext(vertx);
    }

    @Override
    public RoundResult round(int index, long durationNanos) throws Exception {
      // Plain fields, as the raw loop's locals: the handler runs on the one context, and they are read after the
      // loop's close completed there. (An atomic increment per record cost the handler a fence per record.)
      Tally tally = new Tally();
      CompletableFuture<Void> all = new CompletableFuture<>();
      JsonObject config = streamtoolsConfig(5).put("KAFKA_GROUP_ID", group + "-" + index)
        .put("KAFKA_AUTO_OFFSET_RESET", "earliest");
      String topic = backlog.name();
      ConsumerLoop loop = Vx.on(context, () -> Future.succeededFuture(
        Transports.CONSUMER_LOOPS.get(Transports.KAFKA).create(vertx, topic, config)));
      try {
        Vx.on(context, () -> loop.start(m -> {
          long n = ++tally.handled;
          if (readFields) {
            tally.read += m.key().length() + m.body().length();
          }
          // the clock is read for the first and the last record only: the raw loop reads it once per poll
          if (n == 1) {
            tally.first = System.nanoTime();
          }
          if (n == backlog.count) {
            tally.last = System.nanoTime();
            all.complete(null);
          }
          return Future.succeededFuture();
        }, RouteOptions.defaults()));
        all.get(120, TimeUnit.SECONDS);
      } finally {
        Vx.await(loop.close());
      }
      if (readFields && tally.read == 0) {
        throw new IllegalStateException("read no key or body");
      }
      return new RoundResult(tally.handled - 1, tally.last - tally.first, Double.NaN, Double.NaN,
        Math.max(0, tally.handled - backlog.count));
    }

    @Override
    public void close() {
    }
  }

  /** Where the raw round trip's sides run. */
  private enum RttThreading {
    /** The sending thread waits, the consumer's poll thread completes its wait. */
    POLL_THREAD,
    /**
     * The poll thread hands each polled batch to a handler thread that completes the wait: the least any toolkit
     * pays that runs handlers off the poll thread, one more thread to wake per record.
     */
    HAND_OFF,
    /**
     * Threaded as streamtools' Kafka side is: the sends start on an event loop, whose wait the producer's
     * acknowledgement completes there (handed over with runOnContext); the poll thread hands each polled batch
     * to that event loop, which completes the wait.
     */
    EVENT_LOOP
  }

  /** Raw round trip, threaded as {@link RttThreading} says. */
  private static final class RawRtt implements Side {
    private final Vertx vertx;
    private final RttThreading threading;
    private final byte[] body = Payloads.json(100).getBytes();
    private final AtomicReference<Consumer<Throwable>> waiting = new AtomicReference<>();
    private final AtomicInteger pendingParts = new AtomicInteger();
    private final BlockingQueue<ConsumerRecords<byte[], byte[]>> batches =
      new ArrayBlockingQueue<>(HANDOFF_BATCHES);
    // shared by the poll thread and the handler thread or event loop; the plain raw side keeps its plain map
    private final Map<TopicPartition, OffsetAndMetadata> handledOffsets;
    private KafkaProducer<byte[], byte[]> producer;
    private Thread poller;
    private Thread handler;
    // EVENT_LOOP: where the sends start and the polled batches are handled
    private Context context;
    private volatile Promise<Void> received;
    private volatile boolean stop;
    private String topic;

    /** @param vertx the run's Vert.x, for {@link RttThreading#EVENT_LOOP} only */
    RawRtt(Vertx vertx, RttThreading threading) {
      this.vertx = vertx;
      this.threading = threading;
      this.handledOffsets = threading == RttThreading.POLL_THREAD ? new HashMap<>() : new ConcurrentHashMap<>();
    }

    @Override
    public String label() {
      switch (threading) {
        case HAND_OFF:
          return "KafkaProducer + KafkaConsumer poll thread -> ArrayBlockingQueue(" + HANDOFF_BATCHES
            + ") -> handler thread (commitAsync every " + COMMIT_INTERVAL_MS + " ms)";
        case EVENT_LOOP:
          return "KafkaProducer.send on an event loop, acknowledgement -> runOnContext; KafkaConsumer poll thread -> "
            + "runOnContext per poll -> the event loop completes the wait (commitAsync every "
            + COMMIT_INTERVAL_MS + " ms)";
        default:
          return "KafkaProducer + KafkaConsumer poll thread (commitAsync every " + COMMIT_INTERVAL_MS + " ms)";
      }
    }

    @Override
    public void open() throws Exception {
      topic = topic(threading == RttThreading.HAND_OFF ? "rtt-handoff"
        : threading == RttThreading.EVENT_LOOP ? "rtt-eventloop" : "rtt-raw");
      if (threading == RttThreading.EVENT_LOOP) {
        context = Vx.newContext(vertx);
      }
      createTopic(topic, 1);
      producer = new KafkaProducer<>(producerProps(0), new ByteArraySerializer(), new ByteArraySerializer());
      CompletableFuture<Void> assigned = new CompletableFuture<>();
      KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(consumerProps("bench-" + topic + "-" + UUID.randomUUID()),
        new ByteArrayDeserializer(), new ByteArrayDeserializer());
      poller = new Thread(() -> pollLoop(c, assigned), "bench-kafka-rtt-poller");
      poller.start();
      if (threading == RttThreading.HAND_OFF) {
        handler = new Thread(this::handleLoop, "bench-kafka-rtt-handler");
        handler.start();
      }
      assigned.get(60, TimeUnit.SECONDS);
    }

    private void pollLoop(KafkaConsumer<byte[], byte[]> c, CompletableFuture<Void> assigned) {
      try (c) {
        c.subscribe(List.of(topic));
        long nextCommit = System.nanoTime();
        while (!stop) {
          ConsumerRecords<byte[], byte[]> records = c.poll(Duration.ofMillis(100));
          if (!c.assignment().isEmpty()) {
            assigned.complete(null);
          }
          if (context != null) {
            if (!records.isEmpty()) {
              context.runOnContext(v -> {
                records.forEach(this::handled);
                Promise<Void> receipt = received;
                if (receipt != null) {
                  receipt.tryComplete();
                }
              });
            }
          } else if (threading == RttThreading.HAND_OFF) {
            if (!records.isEmpty()) {
              batches.put(records);
            }
          } else {
            handle(records);
          }
          long now = System.nanoTime();
          if (now >= nextCommit && !handledOffsets.isEmpty()) {
            c.commitAsync(new HashMap<>(handledOffsets), null);
            handledOffsets.clear();
            nextCommit = now + TimeUnit.MILLISECONDS.toNanos(COMMIT_INTERVAL_MS);
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException e) {
        assigned.completeExceptionally(e);
        part(e);
      }
    }

    private void handleLoop() {
      try {
        while (!stop) {
          ConsumerRecords<byte[], byte[]> records = batches.poll(100, TimeUnit.MILLISECONDS);
          if (records != null) {
            handle(records);
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private void handle(ConsumerRecords<byte[], byte[]> records) {
      for (ConsumerRecord<byte[], byte[]> r : records) {
        handled(r);
        part(null);
      }
    }

    private void handled(ConsumerRecord<byte[], byte[]> r) {
      handledOffsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
    }

    private void part(Throwable err) {
      if (pendingParts.decrementAndGet() == 0 || err != null) {
        Consumer<Throwable> w = waiting.getAndSet(null);
        if (w != null) {
          w.accept(err);
        }
      }
    }

    @Override
    public RoundResult round(int index, long durationNanos) throws Exception {
      if (threading == RttThreading.EVENT_LOOP) {
        return AsyncWindow.run(context, 1, durationNanos, () -> {
          Promise<Void> r = Promise.promise();
          received = r;
          Promise<Void> acknowledged = Promise.promise();
          producer.send(new ProducerRecord<>(topic, body), (md, e) -> context.runOnContext(v -> {
            if (e == null) {
              acknowledged.complete();
            } else {
              acknowledged.fail(e);
            }
          }));
          return Future.all(acknowledged.future(), r.future());
        });
      }
      return ThreadWindow.run(1, durationNanos, done -> {
        pendingParts.set(2);
        waiting.set(done);
        producer.send(new ProducerRecord<>(topic, body), (md, e) -> part(e));
      });
    }

    @Override
    public void close() throws Exception {
      stop = true;
      if (poller != null) {
        poller.join(10_000);
      }
      if (handler != null) {
        handler.join(10_000);
      }
      if (producer != null) {
        producer.close(Duration.ofSeconds(30));
      }
    }
  }

  private static final class StRtt implements Side {
    private final Vertx vertx;
    private final BenchOptions o;
    private final Buffer body = Payloads.json(100);
    private final boolean twoLoops;
    private Context senderContext;
    private Context consumerContext;
    private Producer producer;
    private ConsumerLoop loop;
    private volatile Promise<Void> received;

    /**
     * @param twoLoops whether the consumer loop runs on an event loop of its own. Otherwise it shares the sender's,
     *                 as the producer and consumer of one verticle do: the poll thread then hands a record to the
     *                 thread that sends the next, as the raw poll thread does, with no second hand-over between
     *                 event loops that only this measurement's wait would need
     */
    StRtt(Vertx vertx, BenchOptions o, boolean twoLoops) {
      this.vertx = vertx;
      this.o = o;
      this.twoLoops = twoLoops;
    }

    @Override
    public String label() {
      return "kafka Producer.send + ConsumerLoop (RouteOptions defaults), "
        + (twoLoops ? "each on its own event loop" : "on one event loop");
    }

    @Override
    public void open() throws Exception {
      Vx.requireTransport(Transports.KAFKA);
      String topic = topic("rtt-st");
      createTopic(topic, 1);
      senderContext = Vx.newContext(vertx);
      consumerContext = twoLoops ? Vx.newContext(vertx) : senderContext;
      JsonObject config = streamtoolsConfig(0).put("KAFKA_GROUP_ID", "bench-rtt-st-" + UUID.randomUUID());
      producer = Vx.on(senderContext, () -> Future.succeededFuture(
        Transports.PRODUCERS.get(Transports.KAFKA).create(vertx, topic, config)));
      Vx.on(senderContext, producer::init);
      loop = Vx.on(consumerContext, () -> Future.succeededFuture(
        Transports.CONSUMER_LOOPS.get(Transports.KAFKA).create(vertx, topic, config)));
      Vx.on(consumerContext, () -> loop.start(m -> {
        Promise<Void> r = received;
        if (r != null) {
          r.tryComplete();
        }
        return Future.succeededFuture();
      }, RouteOptions.defaults()));
    }

    @Override
    public RoundResult round(int index, long durationNanos) throws Exception {
      return AsyncWindow.run(senderContext, 1, durationNanos, () -> {
        Promise<Void> r = Promise.promise();
        received = r;
        return Future.all(producer.send(Message.builder().body(body).contentType(Message.APPLICATION_JSON)
          .build()), r.future());
      });
    }

    @Override
    public void close() throws Exception {
      if (loop != null) {
        Vx.await(loop.close());
      }
      if (producer != null) {
        Vx.await(producer.close());
      }
    }
  }
}
