package dev.streamtools.bench.impl;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.consumer.KafkaReadStream;
import io.vertx.kafka.client.producer.KafkaWriteStream;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * vertx-kafka-client used directly, the way its documentation shows, as reference sides: the Kafka transport's
 * design (design.md) puts it between streamtools and Kafka, so these rows tell the cost of running on Vert.x
 * from the cost of streamtools itself. Same client settings as the raw sides.
 */
final class VertxKafkaClientSides {

  private VertxKafkaClientSides() {
  }

  /** KafkaWriteStream.send of the record the raw side sends, a window of Futures from one event loop. */
  static final class Produce implements Side {
    private final Vertx vertx;
    private final BenchOptions o;
    private final byte[] body;
    private final int lingerMs;
    private Context context;
    private KafkaWriteStream<byte[], byte[]> producer;
    private String topic;

    Produce(Vertx vertx, BenchOptions o, int size, int lingerMs) {
      this.vertx = vertx;
      this.o = o;
      this.body = Payloads.json(size).getBytes();
      this.lingerMs = lingerMs;
    }

    @Override
    public String label() {
      return "vertx-kafka-client KafkaWriteStream.send from one event loop, Future window; the record the raw "
        + "side sends";
    }

    @Override
    public void open() throws Exception {
      topic = KafkaBench.topic("produce-vertx");
      KafkaBench.createTopic(topic, KafkaBench.PARTITIONS);
      context = Vx.newContext(vertx);
      producer = Vx.on(context, () -> Future.succeededFuture(
        KafkaWriteStream.<byte[], byte[]>create(vertx, KafkaBench.producerProps(lingerMs), byte[].class,
          byte[].class)));
    }

    @Override
    public RoundResult round(int index, long durationNanos) throws Exception {
      return AsyncWindow.run(context, KafkaBench.PRODUCE_WINDOW, durationNanos,
        () -> producer.send(KafkaBench.recordWithHeaders(topic, body)));
    }

    @Override
    public void close() throws Exception {
      if (producer != null) {
        Vx.await(producer.close(30_000));
      }
    }
  }

  /**
   * KafkaReadStream with a record handler on the event loop (poll timeout 100 ms, as the raw loop), the handled
   * offsets committed every {@link KafkaBench#COMMIT_INTERVAL_MS} ms from the event loop.
   */
  static final class Consume implements Side {
    private final Vertx vertx;
    private final KafkaBench.Backlog backlog;
    private final String group = "bench-vertx-" + UUID.randomUUID();
    private Context context;

    Consume(Vertx vertx, KafkaBench.Backlog backlog) {
      this.vertx = vertx;
      this.backlog = backlog;
    }

    @Override
    public String label() {
      return "vertx-kafka-client KafkaReadStream, record handler on the event loop (poll 100 ms), commit of handled "
        + "offsets every " + KafkaBench.COMMIT_INTERVAL_MS + " ms";
    }

    @Override
    public void open() throws Exception {
      backlog.name();
      context = Vx.newContext(vertx);
    }

    @Override
    public RoundResult round(int index, long durationNanos) throws Exception {
      String topic = backlog.name();
      long[] counts = new long[3]; // handled, first, last: touched only on the context
      Map<TopicPartition, OffsetAndMetadata> handled = new HashMap<>();
      CompletableFuture<Void> all = new CompletableFuture<>();
      long[] timer = {-1};
      KafkaReadStream<byte[], byte[]> stream = Vx.on(context, () -> {
        KafkaReadStream<byte[], byte[]> s = KafkaReadStream.create(vertx,
          KafkaBench.consumerProps(group + "-" + index), byte[].class, byte[].class);
        s.pollTimeout(Duration.ofMillis(100));
        s.handler(r -> {
          long now = System.nanoTime();
          if (counts[0]++ == 0) {
            counts[1] = now;
          }
          counts[2] = now;
          handled.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
          if (counts[0] == backlog.count) {
            all.complete(null);
          }
        });
        timer[0] = vertx.setPeriodic(KafkaBench.COMMIT_INTERVAL_MS, id -> {
          if (!handled.isEmpty()) {
            s.commit(new HashMap<>(handled));
            handled.clear();
          }
        });
        return s.subscribe(Set.of(topic)).map(s);
      });
      try {
        all.get(120, TimeUnit.SECONDS);
      } finally {
        Vx.on(context, () -> {
          vertx.cancelTimer(timer[0]);
          return stream.commit(new HashMap<>(handled)).transform(ar -> stream.close());
        });
      }
      return new RoundResult(counts[0] - 1, counts[2] - counts[1], Double.NaN, Double.NaN, 0);
    }

    @Override
    public void close() {
    }
  }

  /**
   * Round trips through vertx-kafka-client: KafkaWriteStream.send from one event loop, a KafkaReadStream record
   * handler (poll 100 ms, commits every {@link KafkaBench#COMMIT_INTERVAL_MS} ms) on another; one at a time.
   */
  static final class Rtt implements Side {
    private final Vertx vertx;
    private final BenchOptions o;
    private final byte[] body = Payloads.json(100).getBytes();
    private Context context;
    private KafkaWriteStream<byte[], byte[]> producer;
    private KafkaReadStream<byte[], byte[]> consumer;
    private long commitTimer = -1;
    private String topic;
    private volatile Promise<Void> received;

    Rtt(Vertx vertx, BenchOptions o) {
      this.vertx = vertx;
      this.o = o;
    }

    @Override
    public String label() {
      return "vertx-kafka-client KafkaWriteStream.send + KafkaReadStream handler (poll 100 ms, commit every "
        + KafkaBench.COMMIT_INTERVAL_MS + " ms), on one event loop; the record streamtools sends";
    }

    @Override
    public void open() throws Exception {
      topic = KafkaBench.topic("rtt-vertx");
      KafkaBench.createTopic(topic, 1);
      // one verticle's producer and consumer, as streamtools' side in kafka.rtt
      context = Vx.newContext(vertx);
      producer = Vx.on(context, () -> Future.succeededFuture(
        KafkaWriteStream.<byte[], byte[]>create(vertx, KafkaBench.producerProps(0), byte[].class, byte[].class)));
      CompletableFuture<Void> assigned = new CompletableFuture<>();
      consumer = Vx.on(context, () -> {
        KafkaReadStream<byte[], byte[]> s = KafkaReadStream.create(vertx,
          KafkaBench.consumerProps("bench-rtt-vertx-" + UUID.randomUUID()), byte[].class, byte[].class);
        Map<TopicPartition, OffsetAndMetadata> handled = new HashMap<>();
        s.pollTimeout(Duration.ofMillis(100));
        s.partitionsAssignedHandler(tps -> assigned.complete(null));
        s.handler(r -> {
          handled.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
          Promise<Void> p = received;
          if (p != null) {
            p.tryComplete();
          }
        });
        commitTimer = vertx.setPeriodic(KafkaBench.COMMIT_INTERVAL_MS, id -> {
          if (!handled.isEmpty()) {
            s.commit(new HashMap<>(handled));
            handled.clear();
          }
        });
        return s.subscribe(Set.of(topic)).map(s);
      });
      assigned.get(60, TimeUnit.SECONDS);
    }

    @Override
    public RoundResult round(int index, long durationNanos) throws Exception {
      return AsyncWindow.run(context, 1, durationNanos, () -> {
        Promise<Void> r = Promise.promise();
        received = r;
        return Future.all(producer.send(KafkaBench.recordWithHeaders(topic, body)), r.future());
      });
    }

    @Override
    public void close() throws Exception {
      if (consumer != null) {
        Vx.on(context, () -> {
          vertx.cancelTimer(commitTimer);
          return consumer.close();
        });
      }
      if (producer != null) {
        Vx.await(producer.close(30_000));
      }
    }
  }
}
