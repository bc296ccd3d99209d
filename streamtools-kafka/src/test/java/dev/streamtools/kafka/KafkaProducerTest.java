package dev.streamtools.kafka;

import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.SendException;
import dev.streamtools.SendOptions;
import dev.streamtools.SendResult;
import dev.streamtools.StreamtoolsException;
import dev.streamtools.Transports;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** The producer on the real broker: where messages go, how sends fail, topic creation, close, secrets. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KafkaProducerTest extends KafkaTestSupport {

  @Test
  void sendCompletesWithPartitionAndOffsetAndTheKeyChoosesThePartition() throws Exception {
    String topic = topic("send");
    Producer producer = producer(topic, new JsonObject());
    List<SendResult> sameKey = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      sameKey.add(join(producer.sendForResult(Message.text("m" + i).withKey("customer-1"), SendOptions.DEFAULTS)));
    }
    assertThat(sameKey).extracting(SendResult::transport).containsOnly(Transports.KAFKA);
    assertThat(sameKey).extracting(SendResult::queue).containsOnly(topic);
    assertThat(sameKey.stream().map(SendResult::partition).collect(Collectors.toSet())).hasSize(1);
    assertThat(sameKey).extracting(SendResult::offset).isSorted().doesNotHaveDuplicates()
      .allSatisfy(o -> assertThat(o).isNotNegative());

    SendResult explicit = join(producer.sendForResult(Message.text("to partition 2"),
      SendOptions.defaults().partition(2)));
    assertThat(explicit.partition()).isEqualTo(2);
    SendResult keyOption = join(producer.sendForResult(Message.text("key from options"),
      SendOptions.defaults().key("customer-1")));
    assertThat(keyOption.partition()).isEqualTo(sameKey.get(0).partition());
  }

  @Test
  void aRecordTheBrokerRefusesFailsTheSendWithTheCause() throws Exception {
    String topic = topic("too-large");
    Producer producer = producer(topic, new JsonObject().put("kafka.producer.max.request.size", 2048));
    Message big = Message.of(Buffer.buffer(new byte[4096]));
    SendException e = failure(producer.send(big), SendException.class);
    assertThat(e.transport()).isEqualTo(Transports.KAFKA);
    assertThat(e.queue()).isEqualTo(topic);
    assertThat(e.messageId()).isEqualTo(big.id());
    assertThat(e.getCause()).isInstanceOf(RecordTooLargeException.class);
    assertThat(e.getMessage()).contains(big.id()).contains("too large");
    // the producer keeps working
    assertThat(join(producer.sendForResult(Message.text("small"), SendOptions.DEFAULTS)).offset()).isNotNegative();
  }

  @Test
  void aSendToAnUnreachableBrokerFailsInBoundedTime() throws Exception {
    String topic = topic("unreachable");
    Producer producer = withoutBroker(topic, new JsonObject().put("kafka.producer.max.block.ms", 1500));
    long t0 = System.nanoTime();
    SendException e = failure(producer.send(Message.text("nowhere")), SendException.class);
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertThat(e.getMessage()).contains("127.0.0.1:1");
    assertThat(millis).as("waits max.block.ms, then fails").isBetween(1_500L, 15_000L);
    join(producer.close());

    Producer creating = Transports.PRODUCERS.get(Transports.KAFKA).create(vertx, topic, new JsonObject()
      .put(KafkaTransport.BOOTSTRAP_SERVERS, "127.0.0.1:1")
      .put("kafka.admin.default.api.timeout.ms", 1500)
      .put("kafka.admin.request.timeout.ms", 1000));
    StreamtoolsException initFailure = failure(creating.init(), StreamtoolsException.class);
    assertThat(initFailure.getMessage()).contains(topic).contains("KAFKA_CREATE_TOPICS");
    join(creating.close());
  }

  @Test
  void sendsBeyondAFullBufferWaitForRoomAndKeepTheirOrder() throws Exception {
    String topic = topic("full-buffer");
    // 2,000 records of 1 KB through 64 KB of producer memory: most wait until earlier batches are acknowledged
    Producer producer = producer(topic, new JsonObject()
      .put(KafkaTransport.BATCH_SIZE, 16_384)
      .put(KafkaTransport.LINGER_MS, 20)
      .put("kafka.producer.buffer.memory", 65_536));
    Buffer body = Buffer.buffer(new byte[1024]);
    List<Future<SendResult>> sends = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      sends.add(producer.sendForResult(Message.of(body).withKey("one-key"), SendOptions.DEFAULTS));
    }
    join(Future.join(sends));
    assertThat(sends).allSatisfy(f -> assertThat(f.succeeded()).as("%s", f.cause()).isTrue());
    List<SendResult> results = sends.stream().map(Future::result).collect(Collectors.toList());
    assertThat(results.stream().map(SendResult::partition).collect(Collectors.toSet())).hasSize(1);
    assertThat(results).extracting(SendResult::offset).as("offsets in the order of the sends")
      .isSorted().doesNotHaveDuplicates();
  }

  @Test
  void aSendThatCannotReachTheBrokerEndsWithItsTimeoutOrTheClose() throws Exception {
    String topic = topic("no-broker");
    Producer producer = withoutBroker(topic, new JsonObject().put(KafkaTransport.CLOSE_TIMEOUT_MS, 1000));
    SendException timedOut = failure(producer.send(Message.text("with a timeout"),
      SendOptions.defaults().timeout(Duration.ofMillis(300))), SendException.class);
    assertThat(timedOut.getMessage()).contains("not handed to the Kafka producer within 300 ms")
      .contains("it is not sent");

    // without a timeout a send waits up to max.block.ms (60 s) for the topic's metadata; close does not
    Future<Void> waiting = producer.send(Message.text("without a timeout"));
    long t0 = System.nanoTime();
    join(producer.close());
    long closeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertThat(closeMillis).as("close with KAFKA_CLOSE_TIMEOUT_MS 1000").isLessThan(10_000);
    SendException closed = failure(waiting, SendException.class);
    assertThat(closed.getMessage()).contains("closed before the record could be handed to it")
      .contains("metadata");
  }

  @Test
  void initCreatesTheTopicWithTheConfiguredPartitionsAndAcceptsAnExistingOne() throws Exception {
    String topic = topic("create");
    producer(topic, new JsonObject().put(KafkaTransport.TOPIC_PARTITIONS, 2));
    TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic);
    assertThat(d.partitions()).hasSize(2);
    // a second producer with other settings leaves the existing topic alone
    producer(topic, new JsonObject().put(KafkaTransport.TOPIC_PARTITIONS, 5));
    d = admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic);
    assertThat(d.partitions()).hasSize(2);
  }

  @Test
  void withTopicCreationOffInitDoesNotCreateTheTopic() throws Exception {
    String topic = topic("no-create");
    producer(topic, new JsonObject().put(KafkaTransport.CREATE_TOPICS, false));
    Set<String> topics = admin.listTopics().names().get(10, TimeUnit.SECONDS);
    assertThat(topics).doesNotContain(topic);
  }

  @Test
  void closeWaitsForSendsAlreadyStarted() throws Exception {
    String topic = topic("close");
    Producer producer = producer(topic, new JsonObject().put(KafkaTransport.LINGER_MS, 50));
    List<Future<SendResult>> sends = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      sends.add(producer.sendForResult(Message.text("m" + i), SendOptions.DEFAULTS));
    }
    join(producer.close());
    assertThat(sends).allSatisfy(f -> assertThat(f.succeeded()).as("acknowledged before close completed").isTrue());
    SendException after = failure(producer.send(Message.text("late")), SendException.class);
    assertThat(after.getMessage()).contains("closed");
  }

  @Test
  void secretsInPassThroughPropertiesAreNeverLogged() throws Exception {
    String topic = topic("secrets");
    String secret = "s3cr3t-" + System.nanoTime();
    PrintStream original = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      JsonObject withSecrets = new JsonObject()
        .put("kafka.sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required "
          + "username=\"u\" password=\"" + secret + "\";")
        .put("kafka.ssl.key.password", secret)
        .put("kafka.producer.ssl.truststore.password", secret);
      Producer producer = producer(topic, withSecrets);
      join(producer.send(Message.text("hello")));
      join(loop(topic, withSecrets).start(m -> Future.succeededFuture()));
    } finally {
      System.setErr(original);
    }
    String log = captured.toString(StandardCharsets.UTF_8);
    assertThat(log).contains("producer connecting to").contains("consumer connecting to");
    assertThat(log).contains("sasl.jaas.config=[hidden]").contains("ssl.key.password=[hidden]");
    assertThat(log).doesNotContain(secret);
  }

  /** @return a producer of {@code topic} pointed at a port nobody listens on, not creating topics */
  private Producer withoutBroker(String topic, JsonObject extra) {
    return Transports.PRODUCERS.get(Transports.KAFKA).create(vertx, topic, new JsonObject()
      .put(KafkaTransport.BOOTSTRAP_SERVERS, "127.0.0.1:1")
      .put(KafkaTransport.CREATE_TOPICS, false)
      .mergeIn(extra));
  }

  private static <E extends Throwable> E failure(Future<?> future, Class<E> type) throws Exception {
    try {
      future.toCompletionStage().toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(type);
      return type.cast(e.getCause());
    }
    throw new AssertionError("expected a failure of type " + type.getSimpleName() + ", the future succeeded");
  }
}
