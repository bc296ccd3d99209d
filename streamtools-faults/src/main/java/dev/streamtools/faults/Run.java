package dev.streamtools.faults;

import io.vertx.core.json.JsonObject;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One scenario on one transport: its directory of logs and event files, the processes it started (all killed on
 * {@link #close()}), and the waits, each bounded and failing with the logs that explain it.
 */
final class Run implements AutoCloseable {

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  final String transport;
  final Size size;
  final Path dir;
  final String queue;
  final int port;
  final List<Proc> procs = new ArrayList<>();
  final Map<String, Events> consumerEvents = new LinkedHashMap<>();
  final Map<String, Feed> feeds = new LinkedHashMap<>();

  /** A consumer process. */
  final class Node {
    final String name;
    final Proc proc;
    final Events events;

    Node(String name, Proc proc, Events events) {
      this.name = name;
      this.proc = proc;
      this.events = events;
    }

    Node awaitReady() {
      await(name + " ready", size.patience(), () -> {
        if (!proc.isAlive()) {
          throw new AssertionError(name + " exited (status " + proc.awaitExit(Duration.ofSeconds(5)) + ") before it was "
            + "ready:\n" + proc.tail(40));
        }
        return events.refresh().count("READY") > 0;
      });
      return this;
    }

    long handled(String q) {
      return events.refresh().where(e -> "H".equals(e.getString("e")) && q.equals(e.getString("q"))).size();
    }

    /** @return the port its runner listens on (health, HTTP queues) */
    int port() {
      return events.refresh().of("READY").get(0).getInteger("port");
    }

    int terminateAndWait() {
      proc.terminate();
      return proc.awaitExit(Duration.ofSeconds(60));
    }

    boolean stoppedGracefully() {
      return events.refresh().count("STOPPED") > 0;
    }
  }

  /** Where sends are recorded: a producer process, or a consumer's in-process producer (memory). */
  final class Feed {
    final String name;
    final Proc proc; // null for an in-process producer
    final Events events;
    Proc owner; // the consumer process an in-process producer runs in

    Feed(String name, Proc proc, Events events) {
      this.name = name;
      this.proc = proc;
      this.events = events;
    }

    long outcomes() {
      Events e = events.refresh();
      return e.count("C") + e.count("X");
    }

    /** @return whether it finished, or its process was stopped (an in-process producer stops with it) */
    boolean done() {
      return events.refresh().count("DONE") > 0 || (owner != null && !owner.isAlive());
    }
  }

  Run(String transport, Size size, Path base, String scenario) {
    this.transport = transport;
    this.size = size;
    String tag = scenario + "-" + transport + "-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30,
      1L << 40), 36);
    this.dir = base.resolve(tag);
    this.queue = "faults-" + tag;
    this.port = transport.equals("http") ? freePort() : 0;
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The settings every consumer of this transport gets. */
  List<String> consumerSettings() {
    List<String> a = new ArrayList<>(List.of("--transport", transport, "--port", Integer.toString(port)));
    switch (transport) {
      case "kafka":
        // a killed member is noticed after the session timeout; 6 s is the broker's minimum
        a.addAll(List.of("--config", "kafka.consumer.session.timeout.ms=6000",
          "--config", "kafka.consumer.heartbeat.interval.ms=500"));
        break;
      case "rabbitmq":
        a.addAll(List.of("--config", "RMQ_RECONNECT_MAX_MS=1000"));
        break;
      default:
        break;
    }
    return a;
  }

  /** The settings every producer of this transport gets. */
  List<String> producerSettings() {
    switch (transport) {
      case "http":
        return List.of("--config", "HTTP_HOST=127.0.0.1", "--config", "HTTP_PORT=" + port,
          "--config", "HTTP_SEND_TIMEOUT_MS=30000");
      case "rabbitmq":
        return List.of("--config", "RMQ_RECONNECT_MAX_MS=1000");
      default:
        return List.of();
    }
  }

  Node consumer(String name, List<String> args) {
    Path events = dir.resolve(name + ".events");
    List<String> all = new ArrayList<>(args);
    all.addAll(List.of("--events", events.toString()));
    Proc p = Proc.start(name, dir, FaultConsumer.class, all);
    procs.add(p);
    for (Feed f : feeds.values()) {
      if (f.proc == null && f.owner == null && args.contains(f.events.path().toString())) {
        f.owner = p;
      }
    }
    Events e = new Events(events);
    consumerEvents.put(name, e);
    return new Node(name, p, e);
  }

  /** The in-process producer of a memory consumer: add these to the consumer's arguments. */
  List<String> selfFeed(String name, long count, int publishers, int keys, double rate, String prefix) {
    Path events = dir.resolve(name + ".events");
    feeds.put(name, new Feed(name, null, new Events(events)));
    return new ArrayList<>(List.of("--self-produce", Long.toString(count), "--self-events", events.toString(),
      "--self-publishers", Integer.toString(publishers), "--self-keys", Integer.toString(keys),
      "--self-rate", Double.toString(rate), "--self-prefix", prefix));
  }

  Feed producer(String name, String q, long count, int publishers, int keys, double rate, String prefix,
                List<String> extra) {
    Path events = dir.resolve(name + ".events");
    List<String> args = new ArrayList<>(List.of("--transport", transport, "--queue", q, "--events", events.toString(),
      "--count", Long.toString(count), "--publishers", Integer.toString(publishers), "--keys", Integer.toString(keys),
      "--rate", Double.toString(rate), "--prefix", prefix));
    args.addAll(producerSettings());
    args.addAll(extra);
    Proc p = Proc.start(name, dir, FaultProducer.class, args);
    procs.add(p);
    Feed f = new Feed(name, p, new Events(events));
    feeds.put(name, f);
    return f;
  }

  Collection<Events> feedEvents() {
    return feeds.values().stream().map(f -> f.events).toList();
  }

  void awaitFeedsDone() {
    await("every producer done", size.patience(), () -> {
      for (Feed f : feeds.values()) {
        if (!f.done()) {
          if (f.proc != null && !f.proc.isAlive()) {
            throw new AssertionError(f.name + " exited (status " + f.proc.awaitExit(Duration.ofSeconds(5))
              + ") without finishing:\n" + f.proc.tail(40));
          }
          return false;
        }
      }
      return true;
    });
  }

  /**
   * Waits until every confirmed message of {@code q} was handled (or dead-lettered, if expected).
   *
   * @return {@code false} if some were still missing after the wait: the tally then reports them as lost
   */
  boolean awaitAllHandled(String q, Set<String> deadLettered) {
    try {
      Awaitility.await(q + ": every confirmed message handled").atMost(size.patience())
        .pollInterval(Duration.ofMillis(200))
        .until(() -> Tally.of(q, feedEvents(), consumerEvents, deadLettered).lost.isEmpty());
      return true;
    } catch (ConditionTimeoutException e) {
      return false;
    }
  }

  Tally tally(String q, Set<String> deadLettered) {
    return Tally.of(q, feedEvents(), consumerEvents, deadLettered);
  }

  /** Waits for {@code condition}; a condition may throw an AssertionError to fail at once. */
  void await(String what, Duration atMost, Callable<Boolean> condition) {
    try {
      Awaitility.await(what).atMost(atMost).pollInterval(Duration.ofMillis(50)).until(condition);
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("timed out after " + atMost + " waiting for: " + what + "\n" + diagnostics(), e);
    }
  }

  /** @return the status of GET {@code path} on {@code port}, or -1 if it could not be asked */
  static int httpGet(int port, String path) {
    try {
      HttpResponse<Void> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.discarding());
      return r.statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  String diagnostics() {
    StringBuilder sb = new StringBuilder("logs in " + dir);
    for (Proc p : procs) {
      sb.append("\n---- ").append(p.name()).append(p.isAlive() ? " (running)" : " (exited)").append(", last lines:\n")
        .append(p.tail(15));
    }
    return sb.toString();
  }

  JsonObject firstEvent(String type) {
    for (Events e : consumerEvents.values()) {
      List<JsonObject> l = e.refresh().of(type);
      if (!l.isEmpty()) {
        return l.get(0);
      }
    }
    return null;
  }

  @Override
  public void close() {
    procs.forEach(Proc::close);
    if (!Boolean.getBoolean("faults.keepQueues")) {
      Cleanup.after(transport, queue);
    }
  }
}
