package dev.streamtools.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.streamtools.ConsumerLoop;
import dev.streamtools.Message;
import dev.streamtools.MessageHeaders;
import dev.streamtools.Producer;
import dev.streamtools.RouteOptions;
import dev.streamtools.SendOptions;
import dev.streamtools.Transports;
import dev.streamtools.testkit.Brokers;
import dev.streamtools.testkit.Received;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.streamtools.rabbitmq.Rmq.join;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A plain RabbitMQ client (amqp-client, and Debian's amqp-tools) and streamtools exchange messages in both
 * directions: the body is the same bytes, the metadata the standard AMQP properties.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RabbitMqInteropTest {

  private Vertx vertx;
  private final List<String> queues = new ArrayList<>();
  private final List<ConsumerLoop> loops = new ArrayList<>();
  private final List<Producer> producers = new ArrayList<>();

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (ConsumerLoop l : loops) {
      join(l.close());
    }
    for (Producer p : producers) {
      join(p.close());
    }
    join(vertx.close());
    Rmq.deleteQueues(queues.toArray(new String[0]));
  }

  @Test
  void plainClientPublishesStreamtoolsConsumesTheSameBytesAndProperties() throws Exception {
    String queue = queue("plain-to-st");
    Received received = new Received();
    // the seed's class-style name selects the transport too
    ConsumerLoop loop = Transports.CONSUMER_LOOPS.get("RMQIOHandler").create(vertx, queue, Rmq.config());
    loops.add(loop);
    join(loop.start(m -> {
      received.add(m);
      return Future.succeededFuture();
    }, RouteOptions.defaults()));

    byte[] body = "{\"order\":42,\"name\":\"ünïcödé\",\"items\":[1,2]}".getBytes(StandardCharsets.UTF_8);
    Instant sentAt = Instant.parse("2024-05-06T07:08:09Z");
    Map<String, Object> headers = new LinkedHashMap<>();
    headers.put("tenant", "acme");
    headers.put("count", 7);
    AMQP.BasicProperties props = new AMQP.BasicProperties.Builder()
      .messageId("plain-1")
      .contentType("application/json")
      .correlationId("corr-plain")
      .timestamp(Date.from(sentAt))
      .deliveryMode(2)
      .headers(headers)
      .build();
    try (Connection c = Rmq.plainConnection()) {
      Channel ch = c.createChannel();
      ch.basicPublish("", queue, props, body);
      ch.basicPublish("", queue, null, "{\"bare\":true}".getBytes(StandardCharsets.UTF_8));
    }

    await().atMost(Rmq.WAIT).until(() -> received.size() >= 2);
    Message m = received.messages().get(0);
    assertThat(m.body().getBytes()).isEqualTo(body);
    assertThat(m.json().getInteger("order")).isEqualTo(42);
    assertThat(m.json().getString("name")).isEqualTo("ünïcödé");
    assertThat(m.id()).isEqualTo("plain-1");
    assertThat(m.contentType()).isEqualTo("application/json");
    assertThat(m.correlationId()).isEqualTo("corr-plain");
    assertThat(m.timestamp()).isEqualTo(sentAt);
    assertThat(m.header("tenant")).isEqualTo("acme");
    assertThat(m.header("count")).isEqualTo("7");
    assertThat(m.queue()).isEqualTo(queue);

    Message bare = received.messages().get(1);
    assertThat(bare.json().getBoolean("bare")).isTrue();
    assertThat(bare.id()).as("generated when the sender gave none").isNotBlank();
    assertThat(bare.contentType()).isNull();
  }

  @Test
  void streamtoolsPublishesPlainClientReadsTheSameBytesAndProperties() throws Exception {
    String queue = queue("st-to-plain");
    Producer producer = Transports.PRODUCERS.get(Transports.RABBITMQ).create(vertx, queue, Rmq.config());
    producers.add(producer);
    join(producer.init());

    Instant createdAt = Instant.parse("2024-05-06T07:08:09.123Z");
    Message m = Message.json(new JsonObject().put("order", 7).put("text", "ünïcödé")).toBuilder()
      .correlationId("corr-7")
      .timestamp(createdAt)
      .key("customer-9")
      .header("tenant", "acme")
      .build();
    join(producer.send(m, SendOptions.defaults().headers(Map.of("x-extra", "from-options")).priority(3)));

    try (Connection c = Rmq.plainConnection()) {
      Channel ch = c.createChannel();
      GetResponse r = Rmq.get(ch, queue);
      assertThat(r.getBody()).isEqualTo(m.body().getBytes());
      AMQP.BasicProperties p = r.getProps();
      assertThat(p.getMessageId()).isEqualTo(m.id());
      assertThat(p.getContentType()).isEqualTo("application/json");
      assertThat(p.getCorrelationId()).isEqualTo("corr-7");
      assertThat(p.getTimestamp().toInstant()).isEqualTo(Instant.parse("2024-05-06T07:08:09Z"));
      assertThat(p.getDeliveryMode()).as("persistent").isEqualTo(2);
      assertThat(p.getPriority()).isEqualTo(3);
      assertThat(p.getHeaders().get("tenant")).hasToString("acme");
      assertThat(p.getHeaders().get("x-extra")).hasToString("from-options");
      assertThat(p.getHeaders().get(MessageHeaders.KEY)).hasToString("customer-9");
      assertThat(p.getHeaders().get("timestamp_in_ms")).isEqualTo(createdAt.toEpochMilli());
      assertThat(p.getHeaders()).doesNotContainKey(MessageHeaders.ATTEMPT);
    }
  }

  @Test
  void amqpToolsPublishAndGetInteroperate() throws Exception {
    String in = queue("amqp-publish");
    String out = queue("amqp-get");
    Received received = new Received();
    ConsumerLoop loop = Transports.CONSUMER_LOOPS.get(Transports.RABBITMQ).create(vertx, in, Rmq.config());
    loops.add(loop);
    join(loop.start(m -> {
      received.add(m);
      return Future.succeededFuture();
    }, RouteOptions.defaults()));
    Producer producer = Transports.PRODUCERS.get(Transports.RABBITMQ).create(vertx, out, Rmq.config());
    producers.add(producer);
    join(producer.init());

    String url = "amqp://" + Brokers.rabbitMqHost() + ":" + Brokers.rabbitMqPort();
    Rmq.run(Duration.ofSeconds(30), "amqp-publish", "--url=" + url, "-r", in, "-p", "-C", "application/json",
      "-H", "origin: amqp-tools", "-b", "{\"from\":\"amqp-publish\",\"n\":1}");
    await().atMost(Rmq.WAIT).until(() -> received.size() >= 1);
    Message got = received.messages().get(0);
    assertThat(got.json()).isEqualTo(new JsonObject().put("from", "amqp-publish").put("n", 1));
    assertThat(got.contentType()).isEqualTo("application/json");
    assertThat(got.header("origin")).isEqualTo("amqp-tools");

    String json = "{\"from\":\"streamtools\",\"n\":2}";
    join(producer.send(Message.json(new JsonObject(json))));
    String printed = Rmq.run(Duration.ofSeconds(30), "amqp-get", "--url=" + url, "-q", out);
    assertThat(printed.trim()).isEqualTo(json);
  }

  private String queue(String base) {
    String q = Rmq.queue(base);
    queues.add(q);
    return q;
  }
}
