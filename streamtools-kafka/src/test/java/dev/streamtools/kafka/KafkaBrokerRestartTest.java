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

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
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
 * <p>It restarts the broker with the {@code scripts/brokers.sh} that started it ({@link Brokers#restartKafka()}); a
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

    CompletableFuture<Void> restart = CompletableFuture.runAsync(() -> {
      try {
        Brokers.restartKafka();
      } catch (Exception e) {
        throw new CompletionException(e);
      }
    });
    // sends during the outage: the producer buffers them and delivers once the broker is back
    List<Future<SendResult>> duringOutage = new ArrayList<>();
    for (int i = 200; i < 300; i++) {
      duringOutage.add(send(producer, i, sent));
    }
    restart.get(200, TimeUnit.SECONDS);

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
}
