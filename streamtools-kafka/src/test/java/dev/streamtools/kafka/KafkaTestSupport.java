package dev.streamtools.kafka;

import dev.streamtools.ConsumerLoop;
import dev.streamtools.MessageHandler;
import dev.streamtools.Producer;
import dev.streamtools.RouteOptions;
import dev.streamtools.Transports;
import dev.streamtools.kafka.impl.KafkaConsumerLoop;
import dev.streamtools.testkit.Brokers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/** Real broker, fresh topics, one Vert.x per test, everything closed after it. */
abstract class KafkaTestSupport {

  static final Duration WAIT = Duration.ofSeconds(60);

  static AdminClient admin;

  Vertx vertx;
  private final List<ConsumerLoop> loops = new ArrayList<>();
  private final List<Producer> producers = new ArrayList<>();

  @BeforeAll
  static void brokerAndAdmin() {
    Brokers.requireKafka();
    admin = AdminClient.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, Brokers.kafkaBootstrapServers()));
  }

  @AfterAll
  static void closeAdmin() {
    admin.close(Duration.ofSeconds(5));
  }

  @BeforeEach
  void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void closeEverything() throws Exception {
    for (ConsumerLoop loop : loops) {
      quietly(loop.close());
    }
    for (Producer p : producers) {
      quietly(p.close());
    }
    quietly(vertx.close());
  }

  static String topic(String base) {
    return "kt-" + base + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Settings every test client gets: the broker, and quick rebalances (a member notices in 0.5 s, not 3 s). */
  static JsonObject config() {
    return new JsonObject()
      .put(KafkaTransport.BOOTSTRAP_SERVERS, Brokers.kafkaBootstrapServers())
      .put("kafka.consumer.heartbeat.interval.ms", 500);
  }

  Producer producer(String topic, JsonObject extra) throws Exception {
    Producer p = Transports.PRODUCERS.get(Transports.KAFKA).create(vertx, topic, config().mergeIn(extra));
    producers.add(p);
    join(p.init());
    return p;
  }

  KafkaConsumerLoop loop(String topic, JsonObject extra) {
    ConsumerLoop loop = Transports.CONSUMER_LOOPS.get(Transports.KAFKA).create(vertx, topic, config().mergeIn(extra));
    loops.add(loop);
    return (KafkaConsumerLoop) loop;
  }

  KafkaConsumerLoop startLoop(String topic, JsonObject extra, RouteOptions options, MessageHandler handler)
    throws Exception {
    KafkaConsumerLoop loop = loop(topic, extra);
    join(loop.start(handler, options));
    return loop;
  }

  /** @return the group's committed offsets of the topic, by partition number (missing = none committed) */
  static Map<Integer, Long> committed(String group, String topic) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
      .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
    Map<Integer, Long> byPartition = new HashMap<>();
    offsets.forEach((tp, om) -> {
      if (tp.topic().equals(topic) && om != null) {
        byPartition.put(tp.partition(), om.offset());
      }
    });
    return byPartition;
  }

  /** @return the end offsets of the topic's partitions */
  static Map<Integer, Long> endOffsets(String topic, int partitions) throws Exception {
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      request.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    return admin.listOffsets(request).all().get(10, TimeUnit.SECONDS).entrySet().stream()
      .collect(Collectors.toMap(e -> e.getKey().partition(), e -> e.getValue().offset()));
  }

  static <T> T join(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception) {
        throw (Exception) e.getCause();
      }
      throw e;
    }
  }

  static void quietly(Future<?> future) {
    try {
      future.toCompletionStage().toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception ignored) {
      // cleanup: the test's assertions decide
    }
  }
}
