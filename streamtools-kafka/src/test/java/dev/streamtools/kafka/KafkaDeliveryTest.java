package dev.streamtools.kafka;

import dev.streamtools.FailurePolicy;
import dev.streamtools.Message;
import dev.streamtools.MessageHandler;
import dev.streamtools.MessageHeaders;
import dev.streamtools.Producer;
import dev.streamtools.RouteOptions;
import dev.streamtools.SendOptions;
import dev.streamtools.SendResult;
import dev.streamtools.kafka.impl.KafkaConsumerLoop;
import dev.streamtools.testkit.Brokers;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.admin.MemberDescription;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What Kafka users rely on, on the real broker: volume with none lost, consumer groups, takeover after a
 * close or a kill, poison records, ordered commits, back-pressure.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KafkaDeliveryTest extends KafkaTestSupport {

  /** Handled messages: id -> how many times. */
  private static final class Tally {
    final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    final AtomicInteger total = new AtomicInteger();

    void add(Message m) {
      counts.computeIfAbsent(m.id(), k -> new AtomicInteger()).incrementAndGet();
      total.incrementAndGet();
    }

    Set<String> ids() {
      return counts.keySet();
    }

    int duplicates() {
      return total.get() - counts.size();
    }

    MessageHandler handler() {
      return m -> {
        add(m);
        return Future.succeededFuture();
      };
    }
  }

  private static Map<String, SendResult> sendKeyed(Producer producer, int n, int keys) throws Exception {
    Map<String, SendResult> sent = new ConcurrentHashMap<>();
    List<Future<SendResult>> sends = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Message m = Message.json(new JsonObject().put("n", i).put("pad", "x".repeat(40))).withKey("key-" + (i % keys));
      sends.add(producer.sendForResult(m, SendOptions.DEFAULTS).onSuccess(r -> sent.put(r.messageId(), r)));
    }
    join(Future.all(sends));
    return sent;
  }

  private static void awaitAllCommitted(String group, String topic, int partitions) {
    await().atMost(WAIT).untilAsserted(() ->
      assertThat(committed(group, topic)).isEqualTo(endOffsets(topic, partitions)));
  }

  @Test
  void tenThousandMessagesOverThreePartitionsAreAllHandledAndCommitted() throws Exception {
    String topic = topic("volume");
    Producer producer = producer(topic, new JsonObject());
    int n = 10_000;

    long t0 = System.nanoTime();
    Map<String, SendResult> sent = sendKeyed(producer, n, 100);
    long produceMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertThat(sent).hasSize(n);
    assertThat(sent.values().stream().map(SendResult::partition).collect(Collectors.toSet()))
      .containsExactlyInAnyOrder(0, 1, 2);
    assertThat(sent.values().stream().map(r -> r.partition() + "@" + r.offset()).collect(Collectors.toSet()))
      .as("distinct partition/offset per message").hasSize(n);

    Tally tally = new Tally();
    long t1 = System.nanoTime();
    startLoop(topic, new JsonObject(), RouteOptions.defaults(), tally.handler());
    await().atMost(WAIT).until(() -> tally.ids().size() >= n);
    long consumeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t1);

    assertThat(tally.ids()).isEqualTo(sent.keySet());
    assertThat(tally.duplicates()).isZero();
    awaitAllCommitted("streamtools-" + topic, topic, 3);
    System.out.printf("volume: %d messages over 3 partitions; produced (acks=all, idempotent) in %d ms = %.0f msg/s; "
        + "consumed (start + group join included, default per-partition concurrency 1) in %d ms = %.0f msg/s; "
        + "0 lost, %d duplicates%n", n, produceMillis, n * 1000.0 / produceMillis, consumeMillis,
      n * 1000.0 / consumeMillis, tally.duplicates());
  }

  @Test
  void twoGroupsEachSeeEveryMessage() throws Exception {
    String topic = topic("groups");
    Producer producer = producer(topic, new JsonObject());
    Tally g1 = new Tally();
    Tally g2 = new Tally();
    startLoop(topic, new JsonObject().put(KafkaTransport.GROUP_ID, "g1-" + topic), RouteOptions.defaults(),
      g1.handler());
    startLoop(topic, new JsonObject().put(KafkaTransport.GROUP_ID, "g2-" + topic), RouteOptions.defaults(),
      g2.handler());
    Map<String, SendResult> sent = sendKeyed(producer, 500, 20);

    await().atMost(WAIT).until(() -> g1.ids().size() >= 500 && g2.ids().size() >= 500);
    assertThat(g1.ids()).isEqualTo(sent.keySet());
    assertThat(g2.ids()).isEqualTo(sent.keySet());
    assertThat(g1.duplicates() + g2.duplicates()).isZero();
  }

  @Test
  void aMemberClosedMidStreamIsTakenOverWithNothingLost() throws Exception {
    String topic = topic("takeover-close");
    Producer producer = producer(topic, new JsonObject());
    Map<String, SendResult> sent = sendKeyed(producer, 3000, 30);
    int maxInFlight = 8;
    JsonObject perPartition = new JsonObject().put(KafkaTransport.MAX_IN_FLIGHT_PER_PARTITION, 4);

    Tally a = new Tally();
    KafkaConsumerLoop loopA = startLoop(topic, perPartition, RouteOptions.defaults().maxInFlight(maxInFlight),
      slow(a, null, null, null));
    await().atMost(WAIT).until(() -> a.total.get() >= 500);

    Tally b = new Tally();
    AtomicInteger inHandlerB = new AtomicInteger();
    AtomicInteger maxInHandlerB = new AtomicInteger();
    AtomicInteger maxHeldB = new AtomicInteger();
    KafkaConsumerLoop[] loopB = new KafkaConsumerLoop[1];
    loopB[0] = loop(topic, perPartition);
    join(loopB[0].start(slow(b, inHandlerB, maxInHandlerB, () -> maxHeldB.accumulateAndGet(loopB[0].heldRecords(),
      Math::max)), RouteOptions.defaults().maxInFlight(maxInFlight)));
    // B's join made A give up partitions (committing first); let B work a little, if its partitions have work left
    await().atMost(WAIT).until(() -> b.total.get() >= 50 || union(a, b).size() >= sent.size());
    int handledByABeforeClose = a.total.get();
    join(loopA.close());

    await().atMost(WAIT).until(() -> union(a, b).size() >= sent.size());
    awaitAllCommitted("streamtools-" + topic, topic, 3);
    Set<String> both = new HashSet<>(a.ids());
    both.retainAll(b.ids());
    System.out.printf("takeover after close: %d sent; A handled %d (%d before its close), B handled %d; lost %d; "
        + "duplicates %d; B's max in handler %d (bound %d), max held %d%n", sent.size(), a.total.get(),
      handledByABeforeClose, b.total.get(), sent.size() - union(a, b).size(), both.size() + a.duplicates()
        + b.duplicates(), maxInHandlerB.get(), maxInFlight, maxHeldB.get());
    assertThat(union(a, b)).isEqualTo(sent.keySet());
    // A drained its in-flight records and committed them before leaving; a rebalance commits before revoking
    assertThat(both).as("handled by both A and B").isEmpty();
    assertThat(a.duplicates() + b.duplicates()).isZero();
    assertThat(maxInHandlerB.get()).isLessThanOrEqualTo(maxInFlight);
    // in the handler, plus waiting (fewer than maxInFlight before a poll), plus two polls' max.poll.records (500):
    // the next batch is fetched while one is handed over
    assertThat(maxHeldB.get()).isLessThanOrEqualTo(2 * maxInFlight + 2 * 500);
  }

  @Test
  void aKilledMemberIsTakenOverAndOnlyItsUncommittedRecordsRepeat() throws Exception {
    String topic = topic("takeover-kill");
    String group = "kill-" + UUID.randomUUID().toString().substring(0, 8);
    Producer producer = producer(topic, new JsonObject());
    Map<String, SendResult> sent = sendKeyed(producer, 4000, 40);

    Set<String> a = ConcurrentHashMap.newKeySet();
    AtomicInteger aLines = new AtomicInteger();
    File childLog = new File("target/child-consumer-" + topic + ".log");
    Process child = new ProcessBuilder(
      new File(System.getProperty("java.home"), "bin/java").getPath(), "-Xmx128m", "-XX:TieredStopAtLevel=1",
      "-cp", System.getProperty("java.class.path"), ChildConsumer.class.getName(),
      topic, group, Brokers.kafkaBootstrapServers(), "16", "8")
      .redirectError(childLog)
      .start();
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(),
        StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          if (line.startsWith("H ")) {
            a.add(line.substring(2));
            aLines.incrementAndGet();
          }
        }
      } catch (Exception ignored) {
        // the pipe closes when the child dies
      }
    }, "child-reader");
    reader.start();
    try {
      await().atMost(WAIT).until(() -> a.size() >= 1000 || !child.isAlive());
      assertThat(child.isAlive()).as("child consumer alive (see %s)", childLog).isTrue();
      child.destroyForcibly(); // SIGKILL: no drain, no commit, no LeaveGroup
      assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
      reader.join(10_000);
    } finally {
      child.destroyForcibly();
    }
    long t0 = System.nanoTime();
    // A commit the child sent just before it died may still be on its way to the broker: read what A committed
    // once the broker has dropped the dead member (its session timed out), long after anything it sent was taken
    await().atMost(WAIT).until(() -> members(group).isEmpty());
    long emptiedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    Map<Integer, Long> committedAtKill = committed(group, topic);
    Set<String> handledUncommitted = a.stream()
      .filter(id -> sent.get(id).offset() >= committedAtKill.getOrDefault(sent.get(id).partition(), 0L))
      .collect(Collectors.toSet());

    Tally b = new Tally();
    startLoop(topic, new JsonObject().put(KafkaTransport.GROUP_ID, group).put(
      KafkaTransport.MAX_IN_FLIGHT_PER_PARTITION, 8), RouteOptions.defaults().maxInFlight(16), b.handler());
    long takeoverMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    awaitAllCommitted(group, topic, 3);

    Set<String> both = new HashSet<>(a);
    both.retainAll(b.ids());
    Set<String> lost = new HashSet<>(sent.keySet());
    lost.removeAll(a);
    lost.removeAll(b.ids());
    System.out.printf("takeover after kill -9: %d sent; A handled %d before the kill, committed at kill %s; A's "
        + "handled-but-uncommitted %d; the group dropped A after %d ms, B took over after %d ms and handled %d; lost "
        + "%d; duplicates %d%n", sent.size(), a.size(), committedAtKill, handledUncommitted.size(), emptiedMillis,
      takeoverMillis, b.total.get(), lost.size(), both.size() + b.duplicates());
    assertThat(aLines.get()).as("A handled each message once").isEqualTo(a.size());
    assertThat(lost).as("lost").isEmpty();
    assertThat(b.duplicates()).isZero();
    // exactly what A handled after its last commit is handled again: duplicates, bounded, never loss
    assertThat(both).isEqualTo(handledUncommitted);
    assertThat(handledUncommitted.size()).as("A committed as it went").isLessThan(a.size());
  }

  @Test
  void aPoisonRecordReachesTheDeadLetterTopicAfterItsAttemptsWhileOtherKeysFlow() throws Exception {
    String topic = topic("poison");
    Producer producer = producer(topic, new JsonObject());
    Tally dead = new Tally();
    List<Message> deadLetters = new java.util.concurrent.CopyOnWriteArrayList<>();
    startLoop(FailurePolicy.defaults().deadLetterQueueFor(topic), new JsonObject(), RouteOptions.defaults(), m -> {
      deadLetters.add(m);
      dead.add(m);
      return Future.succeededFuture();
    });
    List<Long> poisonAttempts = new java.util.concurrent.CopyOnWriteArrayList<>();
    Map<String, Long> goodHandledAt = new ConcurrentHashMap<>();
    FailurePolicy policy = FailurePolicy.defaults().maxAttempts(4).backoff(Duration.ofMillis(500), 1.0,
      Duration.ofMillis(500));
    startLoop(topic, new JsonObject(), RouteOptions.defaults().failurePolicy(policy), m -> {
      if ("poison".equals(m.key())) {
        poisonAttempts.add(System.nanoTime());
        return Future.failedFuture(new IllegalStateException("cannot process " + m.json().getInteger("n")));
      }
      goodHandledAt.put(m.id(), System.nanoTime());
      return Future.succeededFuture();
    });

    SendResult poison = join(producer.sendForResult(Message.json(new JsonObject().put("n", -1)).withKey("poison"),
      SendOptions.DEFAULTS));
    Map<String, SendResult> good = sendKeyed(producer, 600, 30);

    await().atMost(WAIT).until(() -> dead.total.get() >= 1 && goodHandledAt.size() >= good.size());
    assertThat(poisonAttempts).hasSize(4);
    Message dl = deadLetters.get(0);
    assertThat(dl.key()).isEqualTo("poison");
    assertThat(dl.header(MessageHeaders.DEAD_LETTER_ATTEMPTS)).isEqualTo("4");
    assertThat(dl.header(MessageHeaders.DEAD_LETTER_REASON)).contains("cannot process -1");
    assertThat(dl.header(MessageHeaders.DEAD_LETTER_EXCEPTION)).isEqualTo(IllegalStateException.class.getName());
    assertThat(dl.header(KafkaTransport.DEAD_LETTER_PARTITION_HEADER)).isEqualTo(
      Integer.toString(poison.partition()));
    assertThat(dl.header(KafkaTransport.DEAD_LETTER_OFFSET_HEADER)).isEqualTo(Long.toString(poison.offset()));

    long lastAttempt = poisonAttempts.get(3);
    List<Long> otherPartitions = good.entrySet().stream().filter(e -> e.getValue().partition() != poison.partition())
      .map(e -> goodHandledAt.get(e.getKey())).collect(Collectors.toList());
    List<Long> samePartition = good.entrySet().stream().filter(e -> e.getValue().partition() == poison.partition())
      .map(e -> goodHandledAt.get(e.getKey())).collect(Collectors.toList());
    long flowedMeanwhile = otherPartitions.stream().filter(t -> t < lastAttempt).count();
    System.out.printf("poison: 4 attempts over %d ms; %d of %d records of other partitions handled meanwhile; %d "
        + "records behind it on partition %d waited%n", TimeUnit.NANOSECONDS.toMillis(lastAttempt - poisonAttempts.get(0)),
      flowedMeanwhile, otherPartitions.size(), samePartition.size(), poison.partition());
    assertThat(flowedMeanwhile).as("other keys flowed while the poison was retried").isEqualTo(otherPartitions.size());
    assertThat(samePartition).as("order: its partition waited for it").allSatisfy(t -> assertThat(t)
      .isGreaterThan(lastAttempt));
    assertThat(dead.total.get()).isEqualTo(1);
    awaitAllCommitted("streamtools-" + topic, topic, 3);
  }

  @Test
  void aSlowEarlyRecordHoldsBackTheCommittedOffset() throws Exception {
    String topic = topic("gap");
    String group = "gap-" + UUID.randomUUID().toString().substring(0, 8);
    Producer producer = producer(topic, new JsonObject().put(KafkaTransport.TOPIC_PARTITIONS, 1));
    Promise<Void> blocker = Promise.promise();
    Tally done = new Tally();
    startLoop(topic, new JsonObject().put(KafkaTransport.GROUP_ID, group)
        .put(KafkaTransport.MAX_IN_FLIGHT_PER_PARTITION, 8), RouteOptions.defaults().maxInFlight(8), m -> {
        if (m.json().getInteger("n") == 0) {
          return blocker.future();
        }
        done.add(m);
        return Future.succeededFuture();
      });
    for (int i = 0; i < 20; i++) {
      join(producer.send(Message.json(new JsonObject().put("n", i))));
    }
    await().atMost(WAIT).until(() -> done.ids().size() >= 19);
    // 19 later records are done, but offset 0 is not: nothing past it may be committed, for many commit intervals
    await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(5)).untilAsserted(() ->
      assertThat(committed(group, topic).getOrDefault(0, 0L)).isZero());
    blocker.complete();
    await().atMost(WAIT).untilAsserted(() -> assertThat(committed(group, topic)).containsEntry(0, 20L));
  }

  @Test
  void backPressureKeepsTheMemberInTheGroupAndMemoryBounded() throws Exception {
    String topic = topic("backpressure");
    String group = "bp-" + UUID.randomUUID().toString().substring(0, 8);
    Producer producer = producer(topic, new JsonObject());
    Map<String, SendResult> sent = sendKeyed(producer, 450, 45);
    Tally tally = new Tally();
    AtomicInteger inHandler = new AtomicInteger();
    AtomicInteger maxInHandler = new AtomicInteger();
    AtomicInteger maxHeld = new AtomicInteger();
    KafkaConsumerLoop[] loop = new KafkaConsumerLoop[1];
    // a 3 s poll interval, and about 4.5 s of handler work: a loop that stopped polling would be thrown out
    loop[0] = loop(topic, new JsonObject().put(KafkaTransport.GROUP_ID, group)
      .put("kafka.consumer.max.poll.interval.ms", 3000).put("kafka.consumer.max.poll.records", 50));
    join(loop[0].start(slowFixed(tally, inHandler, maxInHandler, () -> maxHeld.accumulateAndGet(
      loop[0].heldRecords(), Math::max), 30), RouteOptions.defaults().maxInFlight(4)));
    String memberAtStart = onlyMember(group);

    await().atMost(WAIT).until(() -> tally.ids().size() >= sent.size());
    String memberAtEnd = onlyMember(group);
    System.out.printf("back-pressure: %d records, handler 30 ms, maxInFlight 4, max.poll.records 50: max in handler "
      + "%d, max held %d, member kept: %s%n", sent.size(), maxInHandler.get(), maxHeld.get(),
      memberAtStart.equals(memberAtEnd));
    assertThat(memberAtEnd).as("same member: never expired from the group").isEqualTo(memberAtStart);
    assertThat(tally.duplicates()).isZero();
    assertThat(maxInHandler.get()).isLessThanOrEqualTo(4);
    // maxInFlight in the handler, fewer than maxInFlight waiting when a poll is asked, and two polls of
    // max.poll.records asked before their records arrived
    assertThat(maxHeld.get()).isLessThanOrEqualTo(2 * 4 + 2 * 50);
  }

  @Test
  void closingTheLoopEndsItsPollThread() throws Exception {
    String topic = topic("thread");
    Tally tally = new Tally();
    KafkaConsumerLoop loop = loop(topic, new JsonObject());
    join(loop.start(tally.handler(), RouteOptions.defaults()));
    String name = "streamtools-kafka-consumer-" + topic;
    assertThat(pollThreads(name)).as("the loop's poll thread while it runs").hasSize(1);

    join(loop.close());
    // close completes after the consumer is closed, on the poll thread's last steps
    await().atMost(Duration.ofSeconds(5)).until(() -> pollThreads(name).isEmpty());
    join(loop.close());
  }

  @Test
  void aLoopThatConsumedABacklogClosesWithinOnePoll() throws Exception {
    String topic = topic("close-after-backlog");
    Producer producer = producer(topic, new JsonObject());
    Map<String, SendResult> sent = sendKeyed(producer, 2000, 30);
    Tally tally = new Tally();
    // a handler that takes every record at once makes the loop ask many polls ahead; on the caught-up topic each
    // of them would wait the whole poll timeout
    long pollTimeoutMillis = 3000;
    KafkaConsumerLoop loop = startLoop(topic, new JsonObject().put(KafkaTransport.POLL_TIMEOUT_MS, pollTimeoutMillis),
      RouteOptions.defaults(), tally.handler());
    await().atMost(WAIT).until(() -> tally.ids().size() >= sent.size());

    long t0 = System.nanoTime();
    loop.close().toCompletionStage().toCompletableFuture().get(3 * pollTimeoutMillis, TimeUnit.MILLISECONDS);
    long closeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    System.out.printf("close after a backlog of %d: %d ms (poll timeout %d ms)%n", sent.size(), closeMillis,
      pollTimeoutMillis);
    assertThat(tally.ids()).isEqualTo(sent.keySet());
    assertThat(tally.duplicates()).isZero();
    awaitAllCommitted("streamtools-" + topic, topic, 3);
  }

  private static List<Thread> pollThreads(String name) {
    return Thread.getAllStackTraces().keySet().stream()
      .filter(t -> t.getName().equals(name) && t.isAlive())
      .collect(Collectors.toList());
  }

  @Test
  void aStalledPartitionDoesNotStopTheOthers() throws Exception {
    String topic = topic("stalled");
    Producer producer = producer(topic, new JsonObject().put(KafkaTransport.TOPIC_PARTITIONS, 3));
    List<Future<SendResult>> first = new ArrayList<>();
    // more than one poll's worth (max.poll.records 500) on partition 0, so the first polls bring nothing else
    for (int i = 0; i < 600; i++) {
      first.add(producer.sendForResult(Message.json(new JsonObject().put("p", 0).put("n", i)),
        SendOptions.DEFAULTS.partition(0)));
    }
    join(Future.all(first));
    Promise<Void> stall = Promise.promise();
    AtomicInteger stalled = new AtomicInteger();
    Tally others = new Tally();
    Tally zero = new Tally();
    KafkaConsumerLoop[] loop = new KafkaConsumerLoop[1];
    AtomicInteger maxHeld = new AtomicInteger();
    loop[0] = startLoop(topic, new JsonObject(), RouteOptions.defaults()
      .failurePolicy(FailurePolicy.defaults().handlerTimeout(Duration.ofMinutes(5))), m -> {
        maxHeld.accumulateAndGet(loop[0].heldRecords(), Math::max);
        if (m.json().getInteger("p") == 0) {
          stalled.incrementAndGet();
          zero.add(m);
          return stall.future();
        }
        others.add(m);
        return Future.succeededFuture();
      });
    await().atMost(WAIT).until(() -> stalled.get() == 1);

    List<Future<SendResult>> later = new ArrayList<>();
    for (int p = 1; p <= 2; p++) {
      for (int i = 0; i < 10; i++) {
        later.add(producer.sendForResult(Message.json(new JsonObject().put("p", p).put("n", i)),
          SendOptions.DEFAULTS.partition(p)));
      }
    }
    join(Future.all(later));
    // partition 0 waits for its first record (one in flight per partition keeps its order); 1 and 2 flow
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(others.ids()).hasSize(20));
    assertThat(stalled.get()).isEqualTo(1);
    // what the loop holds stays near maxInFlight (64) plus the polls in flight, not the backlog
    assertThat(maxHeld.get()).isLessThanOrEqualTo(64 + 2 * 500);
    stall.complete();
    // the records partition 0 gave back while it waited are fetched again: all handled, none twice
    await().atMost(WAIT).untilAsserted(() -> assertThat(zero.ids()).hasSize(600));
    assertThat(zero.duplicates()).isZero();
    assertThat(others.duplicates()).isZero();
  }

  @Test
  void aRecordWaitingForItsRetryKeepsItsPartitionWithinMaxInFlight() throws Exception {
    String topic = topic("retrying");
    Producer producer = producer(topic, new JsonObject().put(KafkaTransport.TOPIC_PARTITIONS, 3));
    int backlog = 3000;
    List<Future<SendResult>> sends = new ArrayList<>();
    for (int i = 0; i < backlog; i++) {
      sends.add(producer.sendForResult(Message.json(new JsonObject().put("n", i)), SendOptions.DEFAULTS.partition(0)));
    }
    join(Future.all(sends));
    AtomicBoolean failing = new AtomicBoolean(true);
    List<Integer> heldAtEachAttempt = new CopyOnWriteArrayList<>();
    List<Integer> order = new CopyOnWriteArrayList<>();
    Tally tally = new Tally();
    KafkaConsumerLoop[] loop = new KafkaConsumerLoop[1];
    Duration backoff = Duration.ofMillis(300);
    loop[0] = startLoop(topic, new JsonObject(), RouteOptions.defaults().failurePolicy(FailurePolicy.defaults()
      .maxAttempts(1000).backoff(backoff, 1.0, backoff)), m -> {
        int n = m.json().getInteger("n");
        if (n == 0 && failing.get()) {
          heldAtEachAttempt.add(loop[0].heldRecords());
          return Future.failedFuture(new IllegalStateException("record 0 fails until the test lets it pass"));
        }
        order.add(n);
        tally.add(m);
        return Future.succeededFuture();
      });
    // the first record's partition keeps polling for the others' sake; its excess goes back a second after it
    // stops fetching, so from the 6th attempt (1.5 s of backoffs) on it holds its share
    await().atMost(WAIT).until(() -> heldAtEachAttempt.size() >= 10);
    failing.set(false);
    System.out.printf("a record retried every %d ms on a backlog of %d: held at each attempt %s%n",
      backoff.toMillis(), backlog, heldAtEachAttempt);
    assertThat(heldAtEachAttempt.subList(5, 10)).allSatisfy(held -> assertThat(held).isLessThanOrEqualTo(64));
    await().atMost(WAIT).untilAsserted(() -> assertThat(tally.ids()).hasSize(backlog));
    assertThat(tally.duplicates()).isZero();
    assertThat(order).as("one partition, handled in offset order").isSorted();
  }

  @Test
  void aHandlerThatStallsAfterKeepingUpHoldsAtMostSixteenPollsThenMaxInFlight() throws Exception {
    String topic = topic("keeping-up");
    Producer producer = producer(topic, new JsonObject().put(KafkaTransport.TOPIC_PARTITIONS, 1));
    int backlog = 20_000;
    int stallAt = 5_000;
    List<Future<SendResult>> sends = new ArrayList<>();
    for (int i = 0; i < backlog; i++) {
      sends.add(producer.sendForResult(Message.json(new JsonObject().put("n", i)), SendOptions.DEFAULTS));
    }
    join(Future.all(sends));
    Promise<Void> stall = Promise.promise();
    AtomicReference<Context> loopContext = new AtomicReference<>();
    AtomicBoolean stalled = new AtomicBoolean();
    List<Integer> order = new CopyOnWriteArrayList<>();
    Tally tally = new Tally();
    KafkaConsumerLoop[] loop = new KafkaConsumerLoop[1];
    // a handler that takes every record at once makes the loop ask 16 polls (of max.poll.records 500) ahead
    loop[0] = startLoop(topic, new JsonObject(), RouteOptions.defaults()
      .failurePolicy(FailurePolicy.defaults().handlerTimeout(Duration.ofMinutes(5))), m -> {
        loopContext.compareAndSet(null, Vertx.currentContext());
        int n = m.json().getInteger("n");
        order.add(n);
        tally.add(m);
        if (n == stallAt) {
          stalled.set(true);
          return stall.future();
        }
        return Future.succeededFuture();
      });
    await().atMost(WAIT).untilTrue(stalled);
    AtomicInteger maxHeld = new AtomicInteger();
    AtomicInteger held = new AtomicInteger(-1);
    loopContext.get().runOnContext(v -> vertx.setPeriodic(5, id -> {
      held.set(loop[0].heldRecords());
      maxHeld.accumulateAndGet(held.get(), Math::max);
    }));
    // the partition gives back all but its share (63 waiting, 1 in the handler) a second after it is paused
    await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(held.get()).isBetween(0, 64));
    System.out.printf("a handler stalled after %d records of %d taken at once: held at most %d, then %d%n",
      stallAt, backlog, maxHeld.get(), held.get());
    assertThat(maxHeld.get()).isLessThanOrEqualTo(64 + 16 * 500);
    stall.complete();
    await().atMost(WAIT).untilAsserted(() -> assertThat(tally.ids()).hasSize(backlog));
    assertThat(tally.duplicates()).isZero();
    assertThat(order).as("one partition, handled in offset order").isSorted();
  }

  private static String onlyMember(String group) throws Exception {
    List<MemberDescription> members = new ArrayList<>(members(group));
    assertThat(members).hasSize(1);
    return members.get(0).consumerId();
  }

  private static Collection<MemberDescription> members(String group) throws Exception {
    return admin.describeConsumerGroups(List.of(group)).all().get(10, TimeUnit.SECONDS).get(group).members();
  }

  private static Set<String> union(Tally a, Tally b) {
    Set<String> u = new HashSet<>(a.ids());
    u.addAll(b.ids());
    return u;
  }

  private MessageHandler slow(Tally tally, AtomicInteger inHandler, AtomicInteger maxInHandler, Runnable sample) {
    return m -> {
      if (inHandler != null) {
        maxInHandler.accumulateAndGet(inHandler.incrementAndGet(), Math::max);
      }
      if (sample != null) {
        sample.run();
      }
      Promise<Void> p = Promise.promise();
      vertx.setTimer(1 + (m.id().hashCode() & 3), id -> {
        if (inHandler != null) {
          inHandler.decrementAndGet();
        }
        tally.add(m);
        p.complete();
      });
      return p.future();
    };
  }

  private MessageHandler slowFixed(Tally tally, AtomicInteger inHandler, AtomicInteger maxInHandler, Runnable sample,
                                   long millis) {
    return m -> {
      maxInHandler.accumulateAndGet(inHandler.incrementAndGet(), Math::max);
      sample.run();
      Promise<Void> p = Promise.promise();
      vertx.setTimer(millis, id -> {
        inHandler.decrementAndGet();
        tally.add(m);
        p.complete();
      });
      return p.future();
    };
  }
}
