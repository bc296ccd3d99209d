package dev.streamtools.kafka;

import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.RouteOptions;
import dev.streamtools.SendOptions;
import dev.streamtools.SendResult;
import dev.streamtools.kafka.impl.KafkaConsumerLoop;
import dev.streamtools.testkit.Brokers;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The broker restarts ({@code scripts/brokers.sh restart-kafka}) under a running producer and consumer loop:
 * sends made during the outage wait (bounded by {@code delivery.timeout.ms}) and complete, the loop
 * reconnects by itself, and nothing is lost.
 *
 * <p>It restarts the broker with the {@code scripts/brokers.sh} that started it ({@link #brokersScript()}); a
 * broker no script started cannot be restarted, and the test then fails (never skips).
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class KafkaBrokerRestartTest extends KafkaTestSupport {

  @Test
  void aBrokerRestartLosesNothingAndTheLoopResumesByItself() throws Exception {
    String topic = topic("restart");
    Producer producer = producer(topic, new JsonObject());
    Map<String, AtomicInteger> handled = new ConcurrentHashMap<>();
    KafkaConsumerLoop loop = startLoop(topic, new JsonObject(), RouteOptions.defaults(), m -> {
      handled.computeIfAbsent(m.id(), k -> new AtomicInteger()).incrementAndGet();
      return Future.succeededFuture();
    });

    Set<String> sent = ConcurrentHashMap.newKeySet();
    List<Future<SendResult>> sends = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      sends.add(send(producer, i, sent));
    }
    join(Future.all(sends));
    await().atMost(WAIT).until(() -> handled.keySet().containsAll(sent));

    Process restart = new ProcessBuilder("bash", brokersScript().toString(), "restart-kafka")
      .redirectErrorStream(true)
      .redirectOutput(new File("target/restart-kafka.log"))
      .start();
    // sends during the outage: the producer buffers them and delivers once the broker is back
    List<Future<SendResult>> duringOutage = new ArrayList<>();
    for (int i = 200; i < 300; i++) {
      duringOutage.add(send(producer, i, sent));
    }
    assertThat(restart.waitFor(180, TimeUnit.SECONDS)).as("restart-kafka finished").isTrue();
    assertThat(restart.exitValue()).as("restart-kafka: %s", Files.readString(Path.of("target/restart-kafka.log"),
      StandardCharsets.UTF_8)).isZero();
    Brokers.requireKafka();

    join(Future.all(duringOutage));
    List<Future<SendResult>> after = new ArrayList<>();
    for (int i = 300; i < 500; i++) {
      after.add(send(producer, i, sent));
    }
    join(Future.all(after));

    await().atMost(WAIT).until(() -> handled.keySet().containsAll(sent));
    int duplicates = handled.values().stream().mapToInt(AtomicInteger::get).sum() - handled.size();
    System.out.printf("broker restart: %d sent (100 during the restart), all handled, %d duplicates; loop ready: %s%n",
      sent.size(), duplicates, loop.isReady());
    assertThat(sent).hasSize(500);
    assertThat(handled.keySet()).isEqualTo(sent);
    await().atMost(WAIT).until(loop::isReady);
  }

  private static Future<SendResult> send(Producer producer, int i, Set<String> sent) {
    Message m = Message.json(new JsonObject().put("n", i)).withKey("k" + (i % 10));
    return producer.sendForResult(m, SendOptions.DEFAULTS).onSuccess(r -> sent.add(m.id()));
  }

  /**
   * The brokers.sh that started the running broker: {@code STREAMTOOLS_BROKERS_SCRIPT}, else the first
   * scripts/brokers.sh above the working directory, or in the primary checkout of a git worktree, whose
   * {@code target/brokers/kafka/kafka.pid} exists (the script restarts only a broker it started).
   */
  private static Path brokersScript() throws Exception {
    String named = System.getenv("STREAMTOOLS_BROKERS_SCRIPT");
    if (named != null && !named.isBlank()) {
      return Path.of(named);
    }
    List<Path> candidates = new ArrayList<>();
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      candidates.add(dir.resolve("scripts/brokers.sh"));
    }
    Process git = new ProcessBuilder("git", "rev-parse", "--path-format=absolute", "--git-common-dir")
      .redirectErrorStream(true).start();
    String commonDir = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (git.waitFor(10, TimeUnit.SECONDS) && git.exitValue() == 0 && !commonDir.isEmpty()) {
      candidates.add(Path.of(commonDir).getParent().resolve("scripts/brokers.sh"));
    }
    for (Path candidate : candidates) {
      Path root = candidate.getParent().getParent();
      if (Files.isRegularFile(candidate) && Files.isRegularFile(root.resolve("target/brokers/kafka/kafka.pid"))) {
        return candidate;
      }
    }
    throw new AssertionError("no scripts/brokers.sh that started the running Kafka broker among " + candidates
      + "; start it with scripts/brokers.sh up, or set STREAMTOOLS_BROKERS_SCRIPT");
  }
}
