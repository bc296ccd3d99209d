package dev.streamtools.rabbitmq;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.streamtools.ConfigException;
import dev.streamtools.ConsumerLoop;
import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.RouteOptions;
import dev.streamtools.SendException;
import dev.streamtools.SendOptions;
import dev.streamtools.StreamtoolsException;
import dev.streamtools.Transports;
import dev.streamtools.testkit.Received;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static dev.streamtools.rabbitmq.Rmq.failureOf;
import static dev.streamtools.rabbitmq.Rmq.join;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** What a send promises on RabbitMQ beyond the conformance suite: confirms, returns, routing, secrets. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RabbitMqProducerTest {

  private Vertx vertx;
  private final List<String> queues = new ArrayList<>();
  private final List<String> exchanges = new ArrayList<>();
  private final List<Producer> producers = new ArrayList<>();
  private final List<ConsumerLoop> loops = new ArrayList<>();

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
    try (Connection c = Rmq.plainConnection()) {
      for (String e : exchanges) {
        c.createChannel().exchangeDelete(e);
      }
    }
  }

  @Test
  void unroutableMandatorySendFailsAndTheProducerKeepsWorking() throws Exception {
    String queue = queue("unroutable");
    Producer producer = producer(queue, Rmq.config());
    Message lost = Message.json(new JsonObject().put("n", 1));

    Throwable e = failureOf(producer.send(lost, SendOptions.defaults().routingKey("no-such-queue-" + UUID.randomUUID())));

    assertThat(e).isInstanceOf(SendException.class);
    assertThat(((SendException) e).messageId()).isEqualTo(lost.id());
    assertThat(e.getMessage()).contains("unroutable").contains("312 NO_ROUTE").contains(lost.id()).contains(queue);
    Message kept = Message.json(new JsonObject().put("n", 2));
    join(producer.send(kept));
    assertThat(plainGet(queue).getProps().getMessageId()).isEqualTo(kept.id());
  }

  @Test
  void returnedMessageFailsOnlyItsOwnSendAmongManyInFlight() throws Exception {
    String queue = queue("mixed");
    Producer producer = producer(queue, Rmq.config());
    List<Future<Void>> good = new ArrayList<>();
    List<Future<Void>> bad = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      // the same id twice, once routable and once not: returns are matched to the right send
      Message m = Message.json(new JsonObject().put("n", i)).withId("shared-" + (i / 2));
      if (i % 2 == 0) {
        good.add(producer.send(m));
      } else {
        bad.add(producer.send(m, SendOptions.defaults().routingKey("nowhere-" + UUID.randomUUID())));
      }
    }
    join(Future.all(good));
    for (Future<Void> f : bad) {
      assertThat(failureOf(f)).isInstanceOf(SendException.class).hasMessageContaining("unroutable");
    }
  }

  @Test
  void sendToAMissingExchangeFailsClearlyWithoutHurtingOtherSends() throws Exception {
    String queue = queue("missing-exchange");
    Producer producer = producer(queue, Rmq.config());
    List<Future<Void>> others = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      others.add(producer.send(Message.json(new JsonObject().put("n", i))));
    }
    Throwable e = failureOf(producer.send(Message.text("x"), SendOptions.defaults().exchange("no-such-exchange-"
      + UUID.randomUUID())));
    join(Future.all(others));
    assertThat(e).isInstanceOf(SendException.class).hasMessageContaining("does not exist");
  }

  @Test
  void configuredExchangeAndRoutingKeyAreDeclaredBoundAndUsed() throws Exception {
    String queue = queue("routed");
    String exchange = "st-rmq-ex-" + UUID.randomUUID().toString().substring(0, 8);
    exchanges.add(exchange);
    JsonObject config = Rmq.config()
      .put(RabbitMqSettings.EXCHANGE, exchange)
      .put(RabbitMqSettings.EXCHANGE_TYPE, "topic")
      .put(RabbitMqSettings.ROUTING_KEY, "orders.created");
    Received received = new Received();
    ConsumerLoop loop = Transports.CONSUMER_LOOPS.get(Transports.RABBITMQ).create(vertx, queue, config);
    loops.add(loop);
    join(loop.start(m -> {
      received.add(m);
      return Future.succeededFuture();
    }, RouteOptions.defaults()));
    Producer producer = producer(queue, config);

    join(producer.send(Message.json(new JsonObject().put("via", "exchange"))));
    Throwable e = failureOf(producer.send(Message.text("x"), SendOptions.defaults().routingKey("orders.deleted")));

    await().atMost(Rmq.WAIT).until(() -> received.size() >= 1);
    assertThat(received.messages().get(0).json().getString("via")).isEqualTo("exchange");
    assertThat(e).hasMessageContaining("unroutable").hasMessageContaining(exchange);
    try (Connection c = Rmq.plainConnection()) {
      assertThatThrownBy(() -> c.createChannel().exchangeDeclare(exchange, "direct", true))
        .as("the exchange exists as a topic exchange").isNotNull();
    }
  }

  @Test
  void wrongPasswordFailsClearlyAndNeverShowsTheCredentials() throws Exception {
    String user = "st-nobody-" + UUID.randomUUID().toString().substring(0, 6);
    String password = "Pa55-" + UUID.randomUUID();
    JsonObject config = Rmq.config().put(RabbitMqSettings.USER, user).put(RabbitMqSettings.PASS, password);
    PrintStream originalErr = System.err;
    PrintStream originalOut = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream tee = new PrintStream(captured, true, StandardCharsets.UTF_8);
    Throwable producerFailure;
    Throwable loopFailure;
    Throwable sendFailure;
    try {
      System.setErr(tee);
      System.setOut(tee);
      Producer producer = Transports.PRODUCERS.get(Transports.RABBITMQ).create(vertx, queue("secret"), config);
      producers.add(producer);
      producerFailure = failureOf(producer.init());
      sendFailure = failureOf(producer.send(Message.text("x")));
      ConsumerLoop loop = Transports.CONSUMER_LOOPS.get(Transports.RABBITMQ).create(vertx, queue("secret2"), config);
      loops.add(loop);
      loopFailure = failureOf(loop.start(m -> Future.succeededFuture(), RouteOptions.defaults()));
    } finally {
      System.setErr(originalErr);
      System.setOut(originalOut);
    }
    String logs = captured.toString(StandardCharsets.UTF_8);
    originalErr.println(logs);

    for (Throwable t : List.of(producerFailure, sendFailure, loopFailure)) {
      assertThat(t).isInstanceOf(StreamtoolsException.class);
      assertThat(t.getMessage()).contains("login refused").contains("127.0.0.1:");
      assertThat(fullText(t)).doesNotContain(password).doesNotContain(user);
    }
    assertThat(logs).as("the failure is logged").contains("login refused");
    assertThat(logs).doesNotContain(password).doesNotContain(user);
  }

  @Test
  void badSettingsFailAtCreationNamingTheSetting() {
    assertThatThrownBy(() -> Transports.PRODUCERS.get(Transports.RABBITMQ)
      .create(vertx, "q", Rmq.config().put(RabbitMqSettings.QUEUE_TYPE, "stream")))
      .isInstanceOf(ConfigException.class).hasMessageContaining(RabbitMqSettings.QUEUE_TYPE);
    assertThatThrownBy(() -> Transports.PRODUCERS.get(Transports.RABBITMQ)
      .create(vertx, "q", Rmq.config().put(RabbitMqSettings.CONFIRM_WINDOW, "lots")))
      .isInstanceOf(ConfigException.class).hasMessageContaining(RabbitMqSettings.CONFIRM_WINDOW);
    assertThatThrownBy(() -> Transports.PRODUCERS.get(Transports.RABBITMQ)
      .create(vertx, "q", Rmq.config().put(RabbitMqSettings.TLS, true).put(RabbitMqSettings.TLS_CA_FILE, "/no/such.pem")))
      .isInstanceOf(ConfigException.class).hasMessageContaining(RabbitMqSettings.TLS_CA_FILE);
  }

  private static String fullText(Throwable t) {
    StringBuilder b = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      b.append(c).append('\n');
    }
    return b.toString();
  }

  private GetResponse plainGet(String queue) throws Exception {
    try (Connection c = Rmq.plainConnection()) {
      Channel ch = c.createChannel();
      return Rmq.get(ch, queue);
    }
  }

  private Producer producer(String queue, JsonObject config) throws Exception {
    Producer p = Transports.PRODUCERS.get(Transports.RABBITMQ).create(vertx, queue, config);
    producers.add(p);
    join(p.init());
    return p;
  }

  private String queue(String base) {
    String q = Rmq.queue(base);
    queues.add(q);
    return q;
  }
}
