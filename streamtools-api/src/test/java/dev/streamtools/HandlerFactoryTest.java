package dev.streamtools;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class HandlerFactoryTest {

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close();
  }

  @Test
  void aPairFromTheSeedShapedConfigCarriesMessagesEndToEnd() throws Exception {
    HandlerFactory factory = new HandlerFactory(new JsonObject("""
      { "queue_1": { "name": "orders-in", "consumer_loop": "MemoryHandler", "producer": "memory" } }"""));
    HandleMsgs pair = factory.create(vertx, "queue_1");
    assertThat(pair.name()).isEqualTo("orders-in");
    assertThat(pair.producer().queue()).isEqualTo("orders-in");
    assertThat(pair.consumerLoop().queue()).isEqualTo("orders-in");

    CopyOnWriteArrayList<Message> got = new CopyOnWriteArrayList<>();
    pair.init().compose(v -> pair.consumerLoop().start(m -> {
      got.add(m);
      return Future.succeededFuture();
    })).compose(v -> pair.producer().send(Message.json(new JsonObject().put("id", 42))))
      .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);

    await().atMost(Duration.ofSeconds(10)).until(() -> got.size() == 1);
    assertThat(got.get(0).json().getInteger("id")).isEqualTo(42);
    pair.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void badEntriesNameTheQueueAndTheKey() {
    assertThatThrownBy(() -> new HandlerFactory(new JsonObject("""
      { "queue_1": { "consumer_loop": "memory", "producer": "memory" },
        "queue_2": { "name": "queue_2", "consumer_loop": "rabbitmq", "producer": "memory" } }""")))
      .isInstanceOf(ConfigException.class)
      .hasMessageContaining("queue 'queue_2'").hasMessageContaining("key 'consumer_loop'")
      .hasMessageContaining("streamtools-rabbitmq");
    assertThatThrownBy(() -> new HandlerFactory(new JsonObject("""
      { "q": { "consumer_loop": "memory" } }""")))
      .hasMessageContaining("queue 'q' is missing key 'producer'");
    assertThatThrownBy(() -> new HandlerFactory(new JsonObject("""
      { "q": { "consumer_lop": "memory", "producer": "memory" } }""")))
      .hasMessageContaining("queue 'q' has unknown key 'consumer_lop'");
    assertThatThrownBy(() -> new HandlerFactory(new JsonObject("""
      { "q": "memory" }"""))).hasMessageContaining("queue 'q' must be an object");
    assertThatThrownBy(() -> new HandlerFactory(new JsonObject("""
      { "q": { "name": 5, "consumer_loop": "memory", "producer": "memory" } }""")))
      .hasMessageContaining("queue 'q', key 'name' must be a non-empty string");
    assertThatThrownBy(() -> new HandlerFactory(new JsonObject())).hasMessageContaining("empty");
  }

  @Test
  void aConfigFileIsReadAndItsProblemsNameTheFile(@TempDir Path dir) throws Exception {
    Path good = dir.resolve("queues.json");
    Files.writeString(good, "{\"q\": {\"consumer_loop\": \"memory\", \"producer\": \"memory\"}}");
    assertThat(HandlerFactory.fromFile(good).queues()).containsExactly("q");

    Path broken = dir.resolve("broken.json");
    Files.writeString(broken, "{\"q\": ");
    assertThatThrownBy(() -> HandlerFactory.fromFile(broken)).isInstanceOf(ConfigException.class)
      .hasMessageContaining("broken.json").hasMessageContaining("not a JSON object");
    assertThatThrownBy(() -> HandlerFactory.fromFile(dir.resolve("missing.json")))
      .hasMessageContaining("missing.json").hasMessageContaining("cannot be read");
    assertThatThrownBy(() -> HandlerFactory.fromFile(good).create(vertx, "other"))
      .hasMessageContaining("no queue 'other'");
  }
}
