package dev.streamtools.bench.impl;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.streamtools.ConsumerLoop;
import dev.streamtools.FailurePolicy;
import dev.streamtools.Message;
import dev.streamtools.MessageHandler;
import dev.streamtools.Producer;
import dev.streamtools.RouteOptions;
import dev.streamtools.Transports;
import dev.streamtools.kafka.impl.KafkaConsumerLoop;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The memory scenarios of issue 5: a consumer whose handler holds every message for {@code --stall-seconds}
 * while a full backlog waits. Heap is measured after a full GC once the stall has begun and again at its end;
 * the handler's concurrency, what the transport buffered, and (Kafka) the group membership are checked.
 */
public final class Stalls {

  static final int MAX_IN_FLIGHT = 64;
  /** Heap growth over the stall above which the heap is not called flat. */
  static final double FLAT_MB = 16;

  /** One scenario. */
  @FunctionalInterface
  public interface Scenario {
    /**
     * @return what it observed
     * @throws Exception if it could not run
     */
    StallResult run() throws Exception;
  }

  private final Vertx vertx;
  private final BenchOptions o;
  private final PrintStream progress;

  Stalls(Vertx vertx, BenchOptions o, PrintStream progress) {
    this.vertx = vertx;
    this.o = o;
    this.progress = progress;
  }

  Map<String, Scenario> scenarios() {
    Map<String, Scenario> m = new LinkedHashMap<>();
    m.put("stall.memory", this::memory);
    m.put("stall.rabbitmq", this::rabbitmq);
    m.put("stall.kafka", this::kafka);
    return m;
  }

  StallResult run(String name, Scenario s) {
    progress.printf("== %s (handler stalls %.0f s)%n", name, o.stallSeconds);
    try {
      StallResult r = s.run();
      progress.printf(Locale.ROOT, "   heap %.1f MB -> %.1f MB, max in handler %d/%d, buffered %s; %s => %s%n",
        r.heapBeforeMb(), r.heapAfterMb(), r.maxInHandler(), r.maxInFlight(),
        r.buffered() < 0 ? "n/a" : Long.toString(r.buffered()), r.notes(), r.ok() ? "ok" : "NOT OK");
      return r;
    } catch (Exception e) {
      progress.println("   failed: " + Harness.describe(e));
      return new StallResult(name, "-", Double.NaN, Double.NaN, 0, MAX_IN_FLIGHT, -1,
        "did not run: " + Harness.describe(e), false);
    }
  }

  static double heapMbAfterGc() {
    for (int i = 0; i < 2; i++) {
      System.gc();
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1048576.0;
  }

  /** A handler that holds every message until released, counting how many it holds. */
  static final class StallingHandler implements MessageHandler {
    final AtomicInteger current = new AtomicInteger();
    final AtomicInteger max = new AtomicInteger();
    final AtomicLong handled = new AtomicLong();
    final AtomicLong duplicates = new AtomicLong();
    private final BitSet keys = new BitSet();
    private final ConcurrentLinkedQueue<Promise<Void>> held = new ConcurrentLinkedQueue<>();
    private volatile boolean released;

    @Override
    public Future<Void> handle(Message m) {
      max.accumulateAndGet(current.incrementAndGet(), Math::max);
      handled.incrementAndGet();
      if (m.key() != null) {
        int k = Integer.parseInt(m.key());
        synchronized (keys) {
          if (keys.get(k)) {
            duplicates.incrementAndGet();
          }
          keys.set(k);
        }
      }
      if (released) {
        current.decrementAndGet();
        return Future.succeededFuture();
      }
      Promise<Void> p = Promise.promise();
      held.add(p);
      return p.future().onComplete(x -> current.decrementAndGet());
    }

    int distinctKeys() {
      synchronized (keys) {
        return keys.cardinality();
      }
    }

    void release(Context context) {
      released = true;
      context.runOnContext(v -> {
        Promise<Void> p;
        while ((p = held.poll()) != null) {
          p.complete();
        }
      });
    }
  }

  private void sleepSeconds(double s) throws InterruptedException {
    Thread.sleep((long) (s * 1000));
  }

  private static void await(BooleanSupplier condition, long seconds, String what) throws Exception {
    await(condition, seconds, () -> what);
  }

  private static void await(BooleanSupplier condition, long seconds, Supplier<String> what) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out after " + seconds + " s waiting for " + what.get());
      }
      Thread.sleep(20);
    }
  }

  /**
   * The handler holds its messages for the whole stall on purpose: its timeout (30 s by default) must not fire,
   * or timed-out messages are retried while the handler still holds them (the recorded run's 192 "in the
   * handler" of 64, and its redeliveries, were that).
   */
  private RouteOptions stallOptions() {
    return RouteOptions.defaults().maxInFlight(MAX_IN_FLIGHT)
      .failurePolicy(FailurePolicy.defaults().handlerTimeout(patience()));
  }

  /** @return longer than the stall and what follows it: the handler timeout and the memory send timeout */
  private Duration patience() {
    return Duration.ofMillis((long) (o.stallSeconds * 1000) + 60_000);
  }

  private double settle() {
    return Math.min(2, Math.max(0.2, o.stallSeconds / 4));
  }

  /** Memory: a flooding producer keeps 4096 sends outstanding; refused ones are retried after 20 ms. */
  private StallResult memory() throws Exception {
    String queue = "bench-stall-" + UUID.randomUUID();
    Context consumerContext = Vx.newContext(vertx);
    Context senderContext = Vx.newContext(vertx);
    RouteOptions options = stallOptions();
    StallingHandler handler = new StallingHandler();
    ConsumerLoop loop = Transports.CONSUMER_LOOPS.get(Transports.MEMORY).create(vertx, queue);
    // Sends waiting for admission wait out the stall: they must not time out meanwhile.
    Producer producer = Transports.PRODUCERS.get(Transports.MEMORY).create(vertx, queue,
      new JsonObject().put("MEMORY_SEND_TIMEOUT_MS", patience().toMillis()));
    Vx.on(consumerContext, () -> loop.start(handler, options));
    Buffer body = Payloads.json(100);
    AtomicLong accepted = new AtomicLong();
    AtomicLong refused = new AtomicLong();
    AtomicLong timedOut = new AtomicLong();
    AtomicInteger unanswered = new AtomicInteger();
    boolean[] flooding = {true};
    Runnable[] send = new Runnable[1];
    send[0] = () -> {
      if (!flooding[0]) {
        return;
      }
      unanswered.incrementAndGet();
      producer.send(Message.builder().body(body).contentType(Message.APPLICATION_JSON).build()).onComplete(ar -> {
        unanswered.decrementAndGet();
        if (ar.succeeded()) {
          accepted.incrementAndGet();
          send[0].run();
        } else {
          if (ar.cause().getMessage() != null && ar.cause().getMessage().contains("within")) {
            timedOut.incrementAndGet();
          } else {
            refused.incrementAndGet();
          }
          vertx.setTimer(20, id -> send[0].run());
        }
      });
    };
    senderContext.runOnContext(v -> {
      for (int i = 0; i < 4096; i++) {
        send[0].run();
      }
    });
    try {
      sleepSeconds(settle());
      double before = heapMbAfterGc();
      sleepSeconds(o.stallSeconds);
      // accepted = answered sends = taken by the consumer loop; those not finished by the handler are what it buffers
      long takenAtEnd = accepted.get() - (handler.handled.get() - handler.current.get());
      int inHandlerAtEnd = handler.current.get();
      int unansweredAtEnd = unanswered.get();
      double after = heapMbAfterGc();
      Vx.on(senderContext, () -> {
        flooding[0] = false;
        return Future.succeededFuture();
      });
      long releasedAt = System.nanoTime();
      handler.release(consumerContext);
      await(() -> unanswered.get() == 0 && handler.handled.get() == accepted.get(), 60,
        () -> "every accepted message to be handled (handled " + handler.handled.get() + ", accepted "
          + accepted.get() + ", unanswered " + unanswered.get() + ", in the handler " + handler.current.get() + ")");
      double drainSeconds = (System.nanoTime() - releasedAt) / 1e9;
      boolean ok = handler.max.get() <= MAX_IN_FLIGHT && takenAtEnd <= MAX_IN_FLIGHT && after - before < FLAT_MB;
      return new StallResult("stall.memory", "flood of 4096 outstanding sends (send timeout "
        + patience().toSeconds() + " s), maxInFlight "
        + MAX_IN_FLIGHT
        + ", maxPending " + options.maxPending() + ", handler timeout " + patience().toSeconds() + " s, stall "
        + (long) o.stallSeconds + " s", before, after,
        handler.max.get(), MAX_IN_FLIGHT, takenAtEnd, "taken by the loop at the end: " + takenAtEnd + " ("
        + inHandlerAtEnd + " in the handler); " + unansweredAtEnd + " sends unanswered (waiting for admission, "
        + "at most maxPending " + options.maxPending() + ", or in transit); " + refused.get()
        + " sends refused (queue full) and retried after 20 ms; all " + accepted.get()
        + " accepted were handled within " + String.format(Locale.ROOT, "%.1f", drainSeconds)
        + " s of the release" + (timedOut.get() > 0 ? "; " + timedOut.get() + " SENDS TIMED OUT unanswered" : ""),
        ok && timedOut.get() == 0);
    } finally {
      Vx.await(producer.close());
      Vx.await(loop.close());
    }
  }

  private StallResult rabbitmq() throws Exception {
    Vx.requireTransport(Transports.RABBITMQ);
    String queue = RabbitBench.queue("stall");
    int backlog = o.stallBacklog;
    Context context = Vx.newContext(vertx);
    StallingHandler handler = new StallingHandler();
    ConsumerLoop loop = Vx.on(context, () -> Future.succeededFuture(
      Transports.CONSUMER_LOOPS.get(Transports.RABBITMQ).create(vertx, queue, RabbitBench.streamtoolsConfig())));
    Connection c = RabbitBench.connect("stall");
    try {
      Vx.on(context, loop::init);
      RabbitBench.fill(c, queue, backlog);
      Vx.on(context, () -> loop.start(handler, stallOptions()));
      await(() -> handler.current.get() >= Math.min(MAX_IN_FLIGHT, backlog), 60, "the handler to fill up");
      sleepSeconds(settle());
      double before = heapMbAfterGc();
      sleepSeconds(o.stallSeconds);
      double after = heapMbAfterGc();
      Channel ch = c.createChannel();
      long ready = ch.queueDeclarePassive(queue).getMessageCount();
      ch.close();
      long buffered = backlog - ready - (handler.handled.get() - handler.current.get());
      int maxInHandler = handler.max.get();
      handler.release(context);
      await(() -> handler.handled.get() >= backlog, 300, "the backlog to be consumed after the release");
      sleepSeconds(1);
      long redelivered = handler.handled.get() - backlog;
      boolean ok = maxInHandler <= MAX_IN_FLIGHT && buffered <= MAX_IN_FLIGHT && after - before < FLAT_MB
        && redelivered == 0;
      return new StallResult("stall.rabbitmq", "backlog " + backlog + " x 100 B, maxInFlight (prefetch) "
        + MAX_IN_FLIGHT + ", handler timeout " + patience().toSeconds() + " s, stall " + (long) o.stallSeconds + " s",
        before, after, maxInHandler, MAX_IN_FLIGHT,
        buffered, ready + " still ready in the queue at the end; " + redelivered
        + " redelivered after the release", ok);
    } finally {
      Vx.await(loop.close());
      RabbitBench.deleteQuietly(c, queue, queue + ".dlq");
      c.close();
    }
  }

  private StallResult kafka() throws Exception {
    Vx.requireTransport(Transports.KAFKA);
    int backlog = o.stallBacklog;
    String topic = new KafkaBench.Backlog("stall", backlog).name();
    String group = "bench-stall-" + UUID.randomUUID();
    int maxPollIntervalMs = 10_000;
    JsonObject config = KafkaBench.streamtoolsConfig(5).put("KAFKA_GROUP_ID", group)
      .put("kafka.consumer.max.poll.interval.ms", maxPollIntervalMs);
    Context context = Vx.newContext(vertx);
    StallingHandler handler = new StallingHandler();
    ConsumerLoop loop = Vx.on(context, () -> Future.succeededFuture(
      Transports.CONSUMER_LOOPS.get(Transports.KAFKA).create(vertx, topic, config)));
    Properties ap = new Properties();
    ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaBench.bootstrap());
    try (Admin admin = Admin.create(ap)) {
      Vx.on(context, () -> loop.start(handler, stallOptions()));
      await(() -> handler.current.get() > 0, 60, "the handler to get records");
      sleepSeconds(settle());
      String membersBefore = members(admin, group);
      double before = heapMbAfterGc();
      sleepSeconds(o.stallSeconds);
      double after = heapMbAfterGc();
      String membersAfter = members(admin, group);
      int maxInHandler = handler.max.get();
      // what the loop holds: records fetched and waiting plus those in the handler
      long buffered = Vx.on(context, () -> Future.succeededFuture((long) ((KafkaConsumerLoop) loop).heldRecords()));
      handler.release(context);
      await(() -> handler.distinctKeys() >= backlog, 300, "the backlog to be consumed after the release");
      sleepSeconds(1);
      long dups = handler.duplicates.get();
      boolean sameMember = membersBefore.equals(membersAfter);
      boolean ok = sameMember && dups == 0 && maxInHandler <= MAX_IN_FLIGHT && buffered <= MAX_IN_FLIGHT
        && after - before < FLAT_MB;
      return new StallResult("stall.kafka", "backlog " + backlog + " x 100 B in " + KafkaBench.PARTITIONS
        + " partitions, maxInFlight " + MAX_IN_FLIGHT + ", max.poll.interval.ms " + maxPollIntervalMs
        + ", handler timeout " + patience().toSeconds() + " s, stall " + (long) o.stallSeconds + " s", before, after,
        maxInHandler, MAX_IN_FLIGHT, buffered,
        (sameMember ? "no rebalance: same group member and state before and after (" + membersAfter + ")"
          : "REBALANCED: members before " + membersBefore + ", after " + membersAfter)
          + "; " + dups + " records delivered twice", ok);
    } finally {
      Vx.await(loop.close());
    }
  }

  private static String members(Admin admin, String group) throws Exception {
    ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS)
      .get(group);
    TreeSet<String> ids = new TreeSet<>();
    for (MemberDescription m : d.members()) {
      ids.add(m.consumerId());
    }
    return d.state() + " " + ids;
  }
}
