package dev.streamtools.faults;

import dev.streamtools.ConsumerFactory;
import dev.streamtools.FailurePolicy;
import dev.streamtools.Message;
import dev.streamtools.MessageHandler;
import dev.streamtools.MessageHeaders;
import dev.streamtools.Producer;
import dev.streamtools.RouteOptions;
import dev.streamtools.StreamtoolsException;
import dev.streamtools.Transports;
import dev.streamtools.runner.ConsumerRunner;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * The consumer side of the fault harness: a real service on {@link ConsumerRunner} (routes, health endpoints,
 * SIGTERM handling, exit status), run as its own OS process, that records what its handlers do in an
 * {@link EventLog}:
 * <ul>
 *   <li>{@code H}: a message handled, written just before the handler's Future succeeds, so before the
 *   transport can acknowledge it. A message handled and then lost with a killed process is counted as handled;
 *   its redelivery counts as a duplicate.</li>
 *   <li>{@code F}: an attempt of a poison message, whose handler fails.</li>
 *   <li>{@code D}: a dead letter received on {@code <queue>.dlq} (with {@code --dlq}), with its reason headers.</li>
 *   <li>{@code M}: used heap after a full GC (with {@code --heap-probe-ms}).</li>
 *   <li>{@code READY} once every loop consumes, {@code STOPPED} after a graceful stop.</li>
 * </ul>
 * Queues given with {@code --queue} decode the body as a JSON object in the handler ({@link Message#json()});
 * {@code --typed-queue} decodes it into {@link Item} exactly as a typed route does ({@link Message#as(Class)}): a
 * body that does not decode is dead-lettered without reaching the handler logic.
 *
 * <p>For the memory transport, which lives inside one JVM, {@code --self-produce} runs the producer side
 * ({@link Publishers}) in this process too.
 */
@Command(name = "fault-consumer", mixinStandardHelpOptions = true, sortOptions = false,
  description = "A streamtools service that records every handled message id (fault harness, issue 6).")
public final class FaultConsumer implements Callable<Integer> {

  /**
   * The typed route's body.
   *
   * @param n the message number
   * @param k the key
   * @param s the sequence number within the key
   * @param pad padding
   */
  public record Item(long n, String k, long s, String pad) {
  }

  private static final Logger LOG = LoggerFactory.getLogger(FaultConsumer.class);

  @Option(names = "--transport", required = true, description = "http, memory, rabbitmq or kafka")
  String transport;

  @Option(names = "--queue", description = "A queue whose handler decodes a JSON object (repeatable)")
  List<String> queues = new ArrayList<>();

  @Option(names = "--typed-queue", description = "A queue routed as a typed route of Item (repeatable)")
  List<String> typedQueues = new ArrayList<>();

  @Option(names = "--dlq", description = "Also consume <queue>.dlq of every queue and record its dead letters")
  boolean dlq;

  @Option(names = "--events", required = true, description = "The event file")
  Path eventsFile;

  @Option(names = "--port", defaultValue = "0", description = "Health (and HTTP queue) port; 0 picks one")
  int port;

  @Option(names = "--max-in-flight", defaultValue = "64")
  int maxInFlight;

  @Option(names = "--max-pending", defaultValue = "1024")
  int maxPending;

  @Option(names = "--delay-ms", defaultValue = "0", description = "Handler delay")
  long delayMillis;

  @Option(names = "--slow-for-ms", defaultValue = "0",
    description = "Apply --delay-ms only for this long after the first message; 0: always")
  long slowForMillis;

  @Option(names = "--poison", description = "A message id whose handler always fails (repeatable)")
  List<String> poison = new ArrayList<>();

  @Option(names = "--max-attempts", defaultValue = "3")
  int maxAttempts;

  @Option(names = "--backoff-ms", defaultValue = "100", description = "Initial retry backoff, doubling")
  long backoffMillis;

  @Option(names = "--drain-timeout-ms", defaultValue = "10000")
  long drainTimeoutMillis;

  @Option(names = "--heap-probe-ms", defaultValue = "0", description = "Record used heap after GC this often")
  long heapProbeMillis;

  @Option(names = "--config", description = "A transport setting KEY=VALUE (repeatable)")
  Map<String, String> config = new java.util.LinkedHashMap<>();

  @Option(names = "--self-produce", defaultValue = "0", description = "Messages to send from this process")
  long selfProduce;

  @Option(names = "--self-queue", description = "Queue the in-process producer sends to (repeatable)")
  List<String> selfQueues = new ArrayList<>();

  @Option(names = "--self-events", description = "Event file of the in-process producer")
  Path selfEvents;

  @Option(names = "--self-prefix", defaultValue = "m")
  String selfPrefix;

  @Option(names = "--self-publishers", defaultValue = "10")
  int selfPublishers;

  @Option(names = "--self-keys", defaultValue = "10")
  int selfKeys;

  @Option(names = "--self-rate", defaultValue = "0")
  double selfRate;

  @Option(names = "--self-pad", defaultValue = "0")
  int selfPad;

  @Option(names = "--self-pause-after-failure-ms", defaultValue = "0")
  long selfPauseAfterFailure;

  private EventLog events;
  private Set<String> poisonIds;
  private volatile long firstHandledNanos;

  private FaultConsumer() {
  }

  /**
   * @param args see {@code --help}
   */
  public static void main(String[] args) {
    Logging.configure();
    System.exit(new CommandLine(new FaultConsumer()).setOverwrittenOptionsAllowed(true).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    events = new EventLog(eventsFile);
    poisonIds = new LinkedHashSet<>(poison);
    JsonObject settings = new JsonObject();
    config.forEach(settings::put);
    Vertx vertx = Vertx.vertx();
    List<Publishers> selfPublishersList = new ArrayList<>();
    List<Producer> selfProducers = new ArrayList<>();
    Thread probe = null;
    try {
      FailurePolicy policy = FailurePolicy.defaults().maxAttempts(maxAttempts)
        .backoff(Duration.ofMillis(backoffMillis), 2.0, Duration.ofSeconds(30));
      RouteOptions options = RouteOptions.defaults().maxInFlight(maxInFlight).maxPending(maxPending)
        .drainTimeout(Duration.ofMillis(drainTimeoutMillis)).failurePolicy(policy);
      ConsumerFactory consumers = new ConsumerFactory(transport, port, settings);
      List<String> all = new ArrayList<>();
      for (String q : queues) {
        consumers.route(q, options, handler(vertx, q, false));
        all.add(q);
      }
      for (String q : typedQueues) {
        consumers.route(q, options, handler(vertx, q, true));
        all.add(q);
      }
      if (dlq) {
        for (String q : all) {
          String dl = policy.deadLetterQueueFor(q);
          consumers.route(dl, RouteOptions.defaults(), deadLetterHandler(dl));
        }
      }
      ConsumerRunner runner = new ConsumerRunner(vertx, consumers.instances(), consumers.handlers(), port,
        "127.0.0.1");
      if (heapProbeMillis > 0) {
        probe = heapProbe();
      }
      runner.start().onSuccess(v -> {
        events.write("READY", new JsonObject().put("pid", ProcessHandle.current().pid())
          .put("port", runner.actualPort()));
        LOG.info("fault consumer ready on port {}: queues {}, {}", runner.actualPort(), all, options);
        if (selfProduce > 0) {
          startSelfProduce(vertx, settings, runner.actualPort(), selfPublishersList, selfProducers);
        }
      });
      runner.run();
      selfPublishersList.forEach(Publishers::stop);
      List<Future<Void>> closes = new ArrayList<>();
      selfProducers.forEach(p -> closes.add(p.close()));
      Future.join(closes).toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS);
      events.write("STOPPED", new JsonObject());
      LOG.info("fault consumer stopped gracefully");
      return 0;
    } catch (StreamtoolsException e) {
      LOG.error("fault consumer failed: {}", e.getMessage(), e);
      return 1;
    } finally {
      if (probe != null) {
        probe.interrupt();
      }
      vertx.close().toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS);
      events.close();
    }
  }

  private MessageHandler handler(Vertx vertx, String queue, boolean typed) {
    return m -> {
      long n;
      String k;
      long s;
      if (typed) {
        Item item = m.as(Item.class); // exactly what ConsumerFactory's typed routes do
        n = item.n();
        k = item.k();
        s = item.s();
      } else {
        JsonObject body = m.json();
        n = body.getLong("n", -1L);
        k = body.getString("k");
        s = body.getLong("s", -1L);
      }
      JsonObject event = new JsonObject().put("q", queue).put("id", m.id()).put("k", k).put("s", s).put("n", n);
      if (poisonIds.contains(m.id())) {
        events.write("F", event);
        return Future.failedFuture(new IllegalStateException("poison message " + m.id() + " always fails"));
      }
      long now = System.nanoTime();
      if (firstHandledNanos == 0) {
        firstHandledNanos = now;
      }
      boolean slow = delayMillis > 0
        && (slowForMillis == 0 || now - firstHandledNanos < TimeUnit.MILLISECONDS.toNanos(slowForMillis));
      if (!slow) {
        events.write("H", event);
        return Future.succeededFuture();
      }
      Promise<Void> done = Promise.promise();
      vertx.setTimer(delayMillis, id -> {
        events.write("H", event);
        done.complete();
      });
      return done.future();
    };
  }

  private MessageHandler deadLetterHandler(String queue) {
    return m -> {
      JsonObject event = new JsonObject().put("q", queue).put("id", m.id())
        .put("reason", m.header(MessageHeaders.DEAD_LETTER_REASON))
        .put("from", m.header(MessageHeaders.DEAD_LETTER_QUEUE))
        .put("attempts", m.header(MessageHeaders.DEAD_LETTER_ATTEMPTS))
        .put("exception", m.header(MessageHeaders.DEAD_LETTER_EXCEPTION))
        .put("bytes", m.body().length());
      events.write("D", event);
      return Future.succeededFuture();
    };
  }

  private Thread heapProbe() {
    Thread t = new Thread(() -> {
      try {
        while (!Thread.currentThread().isInterrupted()) {
          System.gc();
          long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
          events.write("M", new JsonObject().put("used", used));
          Thread.sleep(heapProbeMillis); // a sampling period, not a wait for a condition
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "heap-probe");
    t.setDaemon(true);
    t.start();
    return t;
  }

  private void startSelfProduce(Vertx vertx, JsonObject settings, int actualPort, List<Publishers> publishers,
                                List<Producer> producers) {
    EventLog out = new EventLog(selfEvents);
    List<String> targets = selfQueues.isEmpty() ? queues : selfQueues;
    for (String q : targets) {
      JsonObject c = settings.copy().put("HTTP_HOST", "127.0.0.1").put("HTTP_PORT", actualPort);
      Producer producer = Transports.PRODUCERS.get(transport).create(vertx, q, c);
      producers.add(producer);
      String prefix = targets.size() == 1 ? selfPrefix : selfPrefix + "." + q;
      Publishers p = new Publishers(vertx, producer, out, prefix, selfProduce, selfPublishers, selfKeys, selfRate,
        selfPad, selfPauseAfterFailure);
      publishers.add(p);
      producer.init().onComplete(ar -> p.run().onComplete(x -> {
        out.write("DONE", new JsonObject().put("q", q).put("confirmed", p.confirmed()).put("failed", p.failed()));
        LOG.info("in-process producer for '{}' done: {} confirmed, {} failed", q, p.confirmed(), p.failed());
      }));
    }
  }
}
