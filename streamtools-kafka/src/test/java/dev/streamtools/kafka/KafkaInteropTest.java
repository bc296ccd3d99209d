package dev.streamtools.kafka;

import dev.streamtools.ConsumerFactory;
import dev.streamtools.Message;
import dev.streamtools.MessageHeaders;
import dev.streamtools.Producer;
import dev.streamtools.RouteOptions;
import dev.streamtools.SendOptions;
import dev.streamtools.SendResult;
import dev.streamtools.Transports;
import dev.streamtools.testkit.Brokers;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A plain Kafka client on the other end, knowing nothing of streamtools (design.md section 3): the body is
 * the record value, the metadata plain UTF-8 record headers.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KafkaInteropTest extends KafkaTestSupport {

  /** A typed route's target. */
  public record Order(String id, int qty) {
  }

  @Test
  void aPlainKafkaProducerWritingJsonIsConsumedByAStreamtoolsRoute() throws Exception {
    String topic = topic("interop-in");
    join(loop(topic, new JsonObject()).init()); // creates the topic
    List<Message> raw = new CopyOnWriteArrayList<>();
    startLoop(topic, new JsonObject().put(KafkaTransport.GROUP_ID, "raw-" + topic), RouteOptions.defaults(), m -> {
      raw.add(m);
      return Future.succeededFuture();
    });
    List<Order> typed = new CopyOnWriteArrayList<>();
    ConsumerFactory factory = new ConsumerFactory(Transports.KAFKA, 0);
    factory.route(topic, Order.class, order -> {
      typed.add(order);
      return Future.succeededFuture();
    });
    startLoop(topic, new JsonObject().put(KafkaTransport.GROUP_ID, "typed-" + topic),
      factory.handlers().get(topic).options(), factory.handlers().get(topic).handler());

    long timestamp = 1_700_000_000_000L;
    try (KafkaProducer<String, String> plain = new KafkaProducer<>(Map.of(
      ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, Brokers.kafkaBootstrapServers()), new StringSerializer(),
      new StringSerializer())) {
      ProducerRecord<String, String> withHeaders = new ProducerRecord<>(topic, null, timestamp, "order-1",
        "{\"id\":\"o-1\",\"qty\":3}");
      withHeaders.headers().add("trace", "t-1".getBytes(StandardCharsets.UTF_8));
      withHeaders.headers().add(MessageHeaders.CORRELATION_ID, "corr-9".getBytes(StandardCharsets.UTF_8));
      plain.send(withHeaders).get(10, TimeUnit.SECONDS);
      // as `kcat -P` sends it: a value, nothing else
      plain.send(new ProducerRecord<>(topic, "{\"id\":\"o-2\",\"qty\":5}")).get(10, TimeUnit.SECONDS);
    }

    await().atMost(WAIT).until(() -> raw.size() >= 2 && typed.size() >= 2);
    Message first = raw.stream().filter(m -> "order-1".equals(m.key())).findFirst().orElseThrow();
    assertThat(first.json()).isEqualTo(new JsonObject().put("id", "o-1").put("qty", 3));
    assertThat(first.header("trace")).isEqualTo("t-1");
    assertThat(first.correlationId()).isEqualTo("corr-9");
    assertThat(first.timestamp().toEpochMilli()).isEqualTo(timestamp);
    assertThat(first.queue()).isEqualTo(topic);
    assertThat(first.id()).as("a stable id from the record's coordinates").matches(topic + "-\\d-0");
    Message bare = raw.stream().filter(m -> m.key() == null).findFirst().orElseThrow();
    assertThat(bare.json().getString("id")).isEqualTo("o-2");
    assertThat(bare.contentType()).isNull();
    assertThat(bare.headers()).isEmpty();
    assertThat(typed).containsExactlyInAnyOrder(new Order("o-1", 3), new Order("o-2", 5));
  }

  @Test
  void aPlainKafkaConsumerReadsWhatStreamtoolsSendsAsTheSameBytesAndHeaders() throws Exception {
    String topic = topic("interop-out");
    Producer producer = producer(topic, new JsonObject());
    Message sent = Message.json(new JsonObject().put("id", "o-7").put("qty", 2).put("note", "ünïcödé"))
      .withKey("customer-42")
      .withCorrelationId("corr-1")
      .withHeader("x-tenant", "acme");
    SendResult result = join(producer.sendForResult(sent,
      SendOptions.defaults().headers(Map.of("x-from-options", "yes"))));

    try (KafkaConsumer<String, byte[]> plain = new KafkaConsumer<>(Map.of(
      ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, Brokers.kafkaBootstrapServers(),
      ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), new ByteArrayDeserializer())) {
      TopicPartition tp = new TopicPartition(topic, result.partition());
      plain.assign(List.of(tp));
      plain.seek(tp, result.offset());
      List<ConsumerRecord<String, byte[]>> got = new ArrayList<>();
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (got.isEmpty() && System.nanoTime() < deadline) {
        plain.poll(Duration.ofMillis(200)).forEach(got::add);
      }
      assertThat(got).isNotEmpty();
      ConsumerRecord<String, byte[]> r = got.get(0);
      assertThat(r.value()).isEqualTo(sent.body().getBytes());
      assertThat(r.key()).isEqualTo("customer-42");
      assertThat(r.timestamp()).isEqualTo(sent.timestamp().toEpochMilli());
      Map<String, String> headers = new HashMap<>();
      for (Header h : r.headers()) {
        headers.put(h.key(), new String(h.value(), StandardCharsets.UTF_8));
      }
      assertThat(headers).containsEntry(MessageHeaders.MESSAGE_ID, sent.id())
        .containsEntry(MessageHeaders.CONTENT_TYPE, Message.APPLICATION_JSON)
        .containsEntry(MessageHeaders.CORRELATION_ID, "corr-1")
        .containsEntry("x-tenant", "acme")
        .containsEntry("x-from-options", "yes")
        .hasSize(5);
    }
  }
}
