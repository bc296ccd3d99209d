package dev.streamtools.kafka;

import dev.streamtools.ConsumerLoop;
import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.RouteOptions;
import dev.streamtools.Transports;
import dev.streamtools.testkit.Brokers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A plain harness (design.md section 7): streamtools against the raw kafka-clients producer and consumer, same
 * broker, same settings, same run, reported as ratios. Not a test: run it with
 * {@code mvn -pl streamtools-kafka exec:java -Dexec.mainClass=dev.streamtools.kafka.KafkaThroughput
 * -Dexec.classpathScope=test [-Dexec.args=200000]}.
 */
public final class KafkaThroughput {

  private static final int WINDOW = 10_000;
  private static final byte[] PAYLOAD = new byte[100];

  private KafkaThroughput() {
  }

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    String bootstrap = Brokers.kafkaBootstrapServers();
    Vertx vertx = Vertx.vertx();
    try {
      JsonObject config = new JsonObject().put(KafkaTransport.BOOTSTRAP_SERVERS, bootstrap);
      String rawTopic = "bench-raw-" + UUID.randomUUID().toString().substring(0, 8);
      String stTopic = "bench-st-" + UUID.randomUUID().toString().substring(0, 8);
      // both topics created the same way (3 partitions), before anything is timed
      for (String t : List.of(rawTopic, stTopic)) {
        Producer p = Transports.PRODUCERS.get(Transports.KAFKA).create(vertx, t, config);
        p.init().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        p.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      }

      // warm-up: the JIT compiles the paths under test before anything is timed
      rawProduce(bootstrap, rawTopic, n / 10);
      vertxProduce(vertx, bootstrap, rawTopic, n / 10);
      streamtoolsProduce(vertx, config, stTopic, n / 10);
      double rawProduce = rawProduce(bootstrap, rawTopic, n);
      double vertxProduce = vertxProduce(vertx, bootstrap, rawTopic, n);
      double stProduce = streamtoolsProduce(vertx, config, stTopic, n);
      double stProduceLoop = streamtoolsProduceFromEventLoop(vertx, config, stTopic, n);
      double rawConsume = rawConsume(bootstrap, rawTopic, n);
      rawConsume = Math.max(rawConsume, rawConsume(bootstrap, rawTopic, n));
      double stConsume1 = streamtoolsConsume(vertx, config, stTopic, n, 1);
      double stConsume64 = streamtoolsConsume(vertx, config, stTopic, n, 64);
      // one hot key: every record in one partition, the two others idle
      String hotTopic = "bench-hot-" + UUID.randomUUID().toString().substring(0, 8);
      Producer hot = Transports.PRODUCERS.get(Transports.KAFKA).create(vertx, hotTopic, config);
      hot.init().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      List<Future<Void>> hotSends = new java.util.ArrayList<>();
      for (int i = 0; i < n / 2; i++) {
        hotSends.add(hot.send(Message.of(Buffer.buffer(PAYLOAD)).withKey("hot")));
      }
      Future.all(hotSends).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
      hot.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      double rawConsumeHot = rawConsume(bootstrap, hotTopic, n / 2);
      double stConsumeHot = streamtoolsConsume(vertx, config, hotTopic, n / 2, 1);
      System.out.printf("%n%d records of %d B, 3 partitions, acks=all, idempotent, linger.ms=5, batch.size=65536%n", n,
        PAYLOAD.length);
      System.out.printf("produce: raw KafkaProducer %,.0f rec/s; vertx KafkaWriteStream.send %,.0f rec/s (%.2f of raw); "
          + "streamtools Producer.send %,.0f rec/s (%.2f of raw)%n", rawProduce, vertxProduce, vertxProduce / rawProduce,
        stProduce, stProduce / rawProduce);
      System.out.printf("produce from a Vert.x event loop (as a handler would): streamtools Producer.send %,.0f rec/s "
        + "(%.2f of raw)%n", stProduceLoop, stProduceLoop / rawProduce);
      System.out.printf("consume: raw KafkaConsumer poll loop %,.0f rec/s; streamtools loop, per-partition 1: %,.0f rec/s "
          + "(%.2f of raw); per-partition 64: %,.0f rec/s (%.2f of raw)%n", rawConsume, stConsume1, stConsume1 / rawConsume,
        stConsume64, stConsume64 / rawConsume);
      System.out.printf("consume, one hot partition of three (%d records): raw %,.0f rec/s; streamtools, per-partition 1: "
        + "%,.0f rec/s (%.2f of raw)%n", n / 2, rawConsumeHot, stConsumeHot, stConsumeHot / rawConsumeHot);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private static Map<String, Object> producerConfig(String bootstrap) {
    return Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "all",
      ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true", ProducerConfig.LINGER_MS_CONFIG, "5",
      ProducerConfig.BATCH_SIZE_CONFIG, "65536");
  }

  private static double rawProduce(String bootstrap, String topic, int n) throws Exception {
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerConfig(bootstrap),
      new ByteArraySerializer(), new ByteArraySerializer())) {
      Semaphore window = new Semaphore(WINDOW);
      CountDownLatch acked = new CountDownLatch(n);
      AtomicReference<Exception> failure = new AtomicReference<>();
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        window.acquire();
        producer.send(new ProducerRecord<>(topic, ("k" + (i % 100)).getBytes(), PAYLOAD), (md, e) -> {
          if (e != null) {
            failure.set(e);
          }
          window.release();
          acked.countDown();
        });
      }
      acked.await(120, TimeUnit.SECONDS);
      if (failure.get() != null) {
        throw failure.get();
      }
      return n / seconds(t0);
    }
  }

  private static double vertxProduce(Vertx vertx, String bootstrap, String topic, int n) throws Exception {
    io.vertx.kafka.client.producer.KafkaWriteStream<byte[], byte[]> stream = io.vertx.kafka.client.producer
      .KafkaWriteStream.create(vertx, producerConfig(bootstrap), new ByteArraySerializer(), new ByteArraySerializer());
    Semaphore window = new Semaphore(WINDOW);
    CountDownLatch acked = new CountDownLatch(n);
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      window.acquire();
      stream.send(new ProducerRecord<>(topic, ("k" + (i % 100)).getBytes(), PAYLOAD)).onComplete(ar -> {
        window.release();
        acked.countDown();
      });
    }
    acked.await(120, TimeUnit.SECONDS);
    double rate = n / seconds(t0);
    stream.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    return rate;
  }

  private static double streamtoolsProduce(Vertx vertx, JsonObject config, String topic, int n) throws Exception {
    Producer producer = Transports.PRODUCERS.get(Transports.KAFKA).create(vertx, topic, config);
    producer.init().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    Semaphore window = new Semaphore(WINDOW);
    CountDownLatch acked = new CountDownLatch(n);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Buffer body = Buffer.buffer(PAYLOAD);
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      window.acquire();
      producer.send(Message.of(body).withKey("k" + (i % 100))).onComplete(ar -> {
        if (ar.failed()) {
          failure.set(ar.cause());
        }
        window.release();
        acked.countDown();
      });
    }
    acked.await(120, TimeUnit.SECONDS);
    double rate = n / seconds(t0);
    producer.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    if (failure.get() != null) {
      throw new IllegalStateException(failure.get());
    }
    return rate;
  }

  private static double streamtoolsProduceFromEventLoop(Vertx vertx, JsonObject config, String topic, int n)
    throws Exception {
    io.vertx.core.Context context = vertx.getOrCreateContext();
    Producer producer = Transports.PRODUCERS.get(Transports.KAFKA).create(vertx, topic, config);
    producer.init().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    Buffer body = Buffer.buffer(PAYLOAD);
    CountDownLatch acked = new CountDownLatch(n);
    AtomicInteger issued = new AtomicInteger();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    long t0 = System.nanoTime();
    context.runOnContext(v -> {
      Runnable[] next = new Runnable[1];
      next[0] = () -> {
        int i = issued.getAndIncrement();
        if (i >= n) {
          return;
        }
        producer.send(Message.of(body).withKey("k" + (i % 100))).onComplete(ar -> {
          if (ar.failed()) {
            failure.set(ar.cause());
          }
          acked.countDown();
          next[0].run();
        });
      };
      for (int w = 0; w < WINDOW; w++) {
        next[0].run();
      }
    });
    acked.await(120, TimeUnit.SECONDS);
    double rate = n / seconds(t0);
    producer.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    if (failure.get() != null) {
      throw new IllegalStateException(failure.get());
    }
    return rate;
  }

  private static double rawConsume(String bootstrap, String topic, int n) {
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
      ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ConsumerConfig.GROUP_ID_CONFIG, "raw-" + topic,
      ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest", ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"),
      new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topic));
      int seen = 0;
      long t0 = 0;
      while (seen < n) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
        if (t0 == 0 && !records.isEmpty()) {
          t0 = System.nanoTime(); // from the first record: group join time is not throughput
        }
        seen += records.count();
        if (!records.isEmpty()) {
          consumer.commitAsync();
        }
      }
      consumer.commitSync();
      return n / seconds(t0);
    }
  }

  private static double streamtoolsConsume(Vertx vertx, JsonObject config, String topic, int n, int perPartition)
    throws Exception {
    ConsumerLoop loop = Transports.CONSUMER_LOOPS.get(Transports.KAFKA).create(vertx, topic, config.copy()
      .put(KafkaTransport.GROUP_ID, "st-" + perPartition + "-" + topic)
      .put(KafkaTransport.MAX_IN_FLIGHT_PER_PARTITION, perPartition));
    AtomicInteger seen = new AtomicInteger();
    CountDownLatch all = new CountDownLatch(1);
    long[] t0 = new long[1];
    loop.start(m -> {
      int count = seen.incrementAndGet();
      if (count == 1) {
        t0[0] = System.nanoTime(); // from the first record: group join time is not throughput
      }
      if (count == n) {
        all.countDown();
      }
      return Future.succeededFuture();
    }, RouteOptions.defaults().maxInFlight(64)).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    all.await(120, TimeUnit.SECONDS);
    double rate = n / seconds(t0[0]);
    loop.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    return rate;
  }

  private static double seconds(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }
}
