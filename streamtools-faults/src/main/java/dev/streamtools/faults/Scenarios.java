package dev.streamtools.faults;

import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The six scenarios of issue 6, each on one transport, each returning its row of the reliability table. A
 * scenario that cannot run its course (a process that does not start, a wait that times out) is a failed row
 * with the reason and where the logs are, never an exception; a transport where a scenario has no meaning gets
 * an "n/a" row saying why.
 */
public final class Scenarios {

  /** Every transport the harness knows, in table order. */
  public static final List<String> TRANSPORTS = List.of("memory", "http", "kafka", "rabbitmq");

  /** The scenario names, by number. */
  public static final List<String> NAMES = List.of(
    "1 SIGTERM mid-stream, restart",
    "2 kill -9 mid-stream, restart",
    "3 broker restarted twice (at 1/3 and 1/2)",
    "4 consumers join/leave (Kafka) or one of two killed (RabbitMQ)",
    "5 poison message",
    "6 slow handler under a backlog");

  static final int MAX_IN_FLIGHT = 64;
  /** Kafka commits every 100 ms (KAFKA_COMMIT_INTERVAL_MS); a duplicate after a kill must be this recent. */
  static final long KAFKA_UNCOMMITTED_WINDOW_MS = 1_000;
  static final int SLOW_MAX_IN_FLIGHT = 16;
  /** How long a consumer may take to be ready again once the broker is back (reconnect backoff, re-declare). */
  static final Duration READY_AGAIN_WITHIN = Duration.ofSeconds(30);
  static final long SLOW_DELAY_MS = 100;
  static final int SLOW_PAD = 8_192;
  static final int SLOW_MAX_PENDING = 64;
  /** Kafka's max.poll.records default: two polls' batches may be held beside the in-flight budget. */
  static final int KAFKA_MAX_POLL_RECORDS = 500;

  private final Size size;
  private final Path base;

  /**
   * @param size how big
   * @param base where each run gets its directory of logs and event files
   */
  public Scenarios(Size size, Path base) {
    this.size = size;
    this.base = base;
  }

  /**
   * @param scenario 1 to 6
   * @param transport one of {@link #TRANSPORTS}
   * @return the row
   */
  public ScenarioResult run(int scenario, String transport) {
    String name = NAMES.get(scenario - 1);
    long start = System.nanoTime();
    ScenarioResult r;
    switch (scenario) {
      case 1: r = execute(name, transport, "s1", this::gracefulRestart); break;
      case 2: r = transport.equals("memory")
        ? ScenarioResult.notApplicable(name, transport, "not persistent: a killed JVM takes its queue with it")
        : execute(name, transport, "s2", this::killRestart);
        break;
      case 3: r = transport.equals("memory") || transport.equals("http")
        ? ScenarioResult.notApplicable(name, transport, "no broker")
        : execute(name, transport, "s3", this::brokerRestarts);
        break;
      case 4: r = transport.equals("memory") || transport.equals("http")
        ? ScenarioResult.notApplicable(name, transport, transport.equals("http") ? "scale-out is a load balancer's"
        : "one JVM")
        : execute(name, transport, "s4", this::membership);
        break;
      case 5: r = execute(name, transport, "s5", this::poison); break;
      case 6: r = execute(name, transport, "s6", this::slowHandler); break;
      default: throw new IllegalArgumentException("scenario " + scenario);
    }
    r.millis = (System.nanoTime() - start) / 1_000_000;
    return r;
  }

  private interface Body {
    void run(Run run, ScenarioResult r) throws Exception;
  }

  private ScenarioResult execute(String name, String transport, String tag, Body body) {
    ScenarioResult r = new ScenarioResult(name, transport);
    Run run = new Run(transport, size, base, tag);
    try (run) {
      body.run(run, r);
      if (!tag.equals("s3")) {
        noteOutsideOutage(run, r);
      }
    } catch (Exception | AssertionError e) {
      r.failures.add("did not complete: " + firstLine(e.getMessage()));
      r.details.add(String.valueOf(e.getMessage()));
    }
    r.details.add("logs and event files: " + run.dir);
    return r;
  }

  /**
   * Only scenario 3 restarts a broker. If a consumer lost its broker connection anyway, someone else restarted
   * it (on a shared machine, another test run): the row says so, since its duplicates then have a cause the
   * scenario did not inject.
   */
  private static void noteOutsideOutage(Run run, ScenarioResult r) {
    long lost = 0;
    for (Proc p : run.procs) {
      lost += p.output().lines().filter(l -> (l.contains("connection to amqp") && l.contains(" lost "))
        || l.contains("offset commit failed") || l.contains("could not be established")).count();
    }
    if (lost > 0) {
      r.notes.add("the broker connection was lost during this run although the scenario restarted nothing "
        + "(someone else restarted the broker?)");
    }
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "null";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  // ---------------------------------------------------------------------------------------------

  /** Scenario 1: SIGTERM a consumer a third into the stream, start another: 0 lost, 0 duplicates. */
  private void gracefulRestart(Run run, ScenarioResult r) {
    stopAndRestart(run, r, false);
  }

  /** Scenario 2: kill -9 a consumer a third into the stream, start another: 0 lost, duplicates bounded. */
  private void killRestart(Run run, ScenarioResult r) {
    stopAndRestart(run, r, true);
  }

  private void stopAndRestart(Run run, ScenarioResult r, boolean kill) {
    String q = run.queue;
    int n = size.messages();
    boolean memory = run.transport.equals("memory");
    List<String> args = base(run, q);
    Run.Node c1 = run.consumer("c1", memory ? concat(args, run.selfFeed("p1", n, 10, 30, size.rate(), "a")) : args)
      .awaitReady();
    if (!memory) {
      run.producer("p1", q, n, 10, 30, size.rate(), "m", List.of());
    }
    run.await("c1 handled a third of the stream", size.patience(), () -> c1.handled(q) >= n / 3);
    long stopMicros = EventLog.nowMicros();
    if (kill) {
      c1.proc.kill();
      c1.proc.awaitExit(Duration.ofSeconds(30));
    } else {
      int status = c1.terminateAndWait();
      r.check(status == 0, "c1 exited with status " + status + " after SIGTERM, not 0");
      r.check(c1.stoppedGracefully(), "c1 did not record a graceful stop");
    }
    long downMillis = (EventLog.nowMicros() - stopMicros) / 1000;
    Run.Node c2 = run.consumer("c2", memory ? concat(args, run.selfFeed("p2", n, 10, 30, size.rate(), "b")) : args)
      .awaitReady();
    long restartMillis = (EventLog.nowMicros() - stopMicros) / 1000;
    run.awaitFeedsDone();
    run.awaitAllHandled(q, Set.of());
    int status = c2.terminateAndWait();
    r.check(status == 0, "c2 exited with status " + status + " after SIGTERM");
    Tally t = run.tally(q, Set.of());
    r.counts(t);
    r.notes.add(String.format(Locale.ROOT, "%s after %,d handled; replacement consuming %.1f s later",
      kill ? "killed" : "stopped", countBefore(t, "c1", stopMicros), restartMillis / 1000.0));
    if (!kill) {
      r.bound = "0";
      r.check(t.duplicates == 0, t.duplicates + " duplicate(s) after a graceful stop: " + ScenarioResult.first(
        t.duplicateIds(), 10));
    } else {
      duplicateBoundAfterKill(run, r, t, "c1", stopMicros);
    }
    if (run.transport.equals("kafka")) {
      order(r, t);
    }
    r.details.add("c1 down for " + downMillis + " ms before c2 started");
  }

  private void duplicateBoundAfterKill(Run run, ScenarioResult r, Tally t, String killed, long killMicros) {
    Set<String> dups = t.duplicateIds();
    switch (run.transport) {
      case "http":
        r.bound = "0 (no redelivery: the caller got an error)";
        r.check(t.duplicates == 0, t.duplicates + " duplicate(s) on HTTP, which never redelivers");
        break;
      case "rabbitmq":
        r.bound = "<= prefetch (" + MAX_IN_FLIGHT + ")";
        r.check(t.duplicates <= MAX_IN_FLIGHT, t.duplicates + " duplicates exceed the prefetch " + MAX_IN_FLIGHT);
        checkFirstHandledBy(r, t, dups, killed);
        break;
      case "kafka": {
        long windowStart = killMicros - KAFKA_UNCOMMITTED_WINDOW_MS * 1000;
        long recent = t.handledInOrder.stream().filter(e -> killed.equals(e.getString("c"))
          && e.getLong("t") >= windowStart && e.getLong("t") <= killMicros).count();
        r.bound = "<= handled since the last commit (" + recent + " in the last " + KAFKA_UNCOMMITTED_WINDOW_MS
          + " ms before the kill; commits every 100 ms)";
        r.check(t.duplicates <= recent, t.duplicates + " duplicates exceed the " + recent + " records handled in the "
          + KAFKA_UNCOMMITTED_WINDOW_MS + " ms before the kill");
        long oldest = 0;
        for (JsonObject e : t.handledInOrder) {
          if (dups.contains(e.getString("id")) && killed.equals(e.getString("c"))) {
            oldest = Math.max(oldest, killMicros - e.getLong("t"));
          }
        }
        if (!dups.isEmpty()) {
          r.notes.add("oldest duplicate handled " + oldest / 1000 + " ms before the kill");
        }
        checkFirstHandledBy(r, t, dups, killed);
        break;
      }
      default:
        break;
    }
  }

  /** A duplicate must be a redelivery of what the killed consumer handled, not of something else. */
  private static void checkFirstHandledBy(ScenarioResult r, Tally t, Set<String> dups, String killed) {
    Set<String> seen = new java.util.HashSet<>();
    List<String> wrong = new ArrayList<>();
    for (JsonObject e : t.handledInOrder) {
      String id = e.getString("id");
      if (seen.add(id) && dups.contains(id) && !killed.equals(e.getString("c"))) {
        wrong.add(id);
      }
    }
    r.check(wrong.isEmpty(), "duplicates first handled by a consumer that was not killed: "
      + ScenarioResult.first(wrong, 10));
  }

  private static long countBefore(Tally t, String consumer, long micros) {
    return t.handledInOrder.stream().filter(e -> consumer.equals(e.getString("c")) && e.getLong("t") <= micros)
      .count();
  }

  private static void order(ScenarioResult r, Tally t) {
    List<String> v = t.perKeyOrderViolations();
    r.check(v.isEmpty(), v.size() + " per-key order violation(s): " + ScenarioResult.first(v, 5));
    if (v.isEmpty()) {
      r.notes.add("per-key order kept");
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** Scenario 3: the broker restarts at 1/3 and at 1/2 of 100 publishers' sends; 0 lost among confirmed. */
  private void brokerRestarts(Run run, ScenarioResult r) {
    String q = run.queue;
    int n = size.restartMessages();
    Run.Node c1 = run.consumer("c1", base(run, q)).awaitReady();
    Run.Feed p = run.producer("p1", q, n, size.restartPublishers(), size.restartPublishers(), size.restartRate(), "m",
      List.of());
    Path restartLog = run.dir.resolve("restarts.log");
    List<String> restarts = new ArrayList<>();
    for (int[] at : new int[][] {{1, 3}, {1, 2}}) {
      long target = (long) n * at[0] / at[1];
      run.await("sends past " + at[0] + "/" + at[1], size.patience(), () -> p.outcomes() >= target);
      long millis = BrokerControl.restart(run.transport, restartLog);
      restarts.add(String.format(Locale.ROOT, "%.1f s", millis / 1000.0));
    }
    run.awaitFeedsDone();
    run.awaitAllHandled(q, Set.of());
    // A small run can be all handled before the second restart ends: the consumer may still be between two
    // reconnect attempts (backoff of about a second), so readiness is awaited, not sampled.
    long readyWaitStart = System.nanoTime();
    int[] ready = {-1};
    try {
      run.await("c1 ready again after the restarts", READY_AGAIN_WITHIN,
        () -> (ready[0] = Run.httpGet(c1.port(), "/health/ready")) == 200);
    } catch (AssertionError e) {
      r.check(false, "consumer not ready " + READY_AGAIN_WITHIN.toSeconds() + " s after the restarts: /health/ready "
        + "answered " + ready[0]);
    }
    double readyAfter = (System.nanoTime() - readyWaitStart) / 1e9;
    int status = c1.terminateAndWait();
    r.check(status == 0, "c1 exited with status " + status + " after SIGTERM");
    Tally t = run.tally(q, Set.of());
    r.counts(t);
    r.notes.add("restarts took " + String.join(" and ", restarts) + "; consumer ready again" + (readyAfter >= 0.1
      ? String.format(Locale.ROOT, " %.1f s after the last message was handled", readyAfter) : ""));
    if (run.transport.equals("kafka")) {
      // in an outage the loop goes on handling what it fetched while its commits fail; a rebalance after it
      // redelivers from the last commit: at most what it holds, 2 x maxInFlight + 2 x max.poll.records (500)
      long bound = 2L * (2L * MAX_IN_FLIGHT + 2L * KAFKA_MAX_POLL_RECORDS);
      r.bound = "<= 2 x (2 x maxInFlight + 2 x max.poll.records) = " + bound;
      r.check(t.duplicates <= bound, t.duplicates + " duplicates exceed " + bound);
    } else {
      long bound = 2L * MAX_IN_FLIGHT;
      r.bound = "<= 2 x prefetch = " + bound;
      r.check(t.duplicates <= bound, t.duplicates + " duplicates exceed " + bound);
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** Scenario 4: Kafka, a consumer joins at 1/3 and the first leaves at 2/3; RabbitMQ, one of two is killed. */
  private void membership(Run run, ScenarioResult r) {
    String q = run.queue;
    int n = size.messages();
    List<String> args = base(run, q);
    if (run.transport.equals("kafka")) {
      Run.Node c1 = run.consumer("c1", args).awaitReady();
      // a third of the rate: the joining consumer needs a JVM start and a group join before the stream ends
      run.producer("p1", q, n, 10, 30, size.rate() / 3.0, "m", List.of());
      run.await("a third handled", size.patience(), () -> c1.handled(q) >= n / 3);
      Run.Node c2 = run.consumer("c2", args).awaitReady();
      long joined = c1.handled(q);
      run.await("two thirds handled", size.patience(), () -> c1.handled(q) + c2.handled(q) >= 2L * n / 3);
      long c2Before = c2.handled(q);
      int status = c1.terminateAndWait();
      r.check(status == 0, "c1 exited with status " + status + " after SIGTERM");
      run.awaitFeedsDone();
      run.awaitAllHandled(q, Set.of());
      status = c2.terminateAndWait();
      r.check(status == 0, "c2 exited with status " + status + " after SIGTERM");
      Tally t = run.tally(q, Set.of());
      r.counts(t);
      r.check(c2Before > 0, "the joining consumer handled nothing while both were members");
      long bound = 2L * MAX_IN_FLIGHT;
      r.bound = "<= in flight at the 2 revokes (2 x " + MAX_IN_FLIGHT + ")";
      r.check(t.duplicates <= bound, t.duplicates + " duplicates exceed " + bound);
      order(r, t);
      r.notes.add(String.format(Locale.ROOT, "c2 joined after %,d, shared until c1 left (c2 had %,d then)", joined,
        c2Before));
      r.notes.add("rebalances seen by c1: " + countLines(c1.proc, "assigned") + " assignments, "
        + countLines(c1.proc, "revoked from this member") + " revokes (the last on its own leave)");
    } else {
      Run.Node c1 = run.consumer("c1", args);
      Run.Node c2 = run.consumer("c2", args);
      c1.awaitReady();
      c2.awaitReady();
      run.producer("p1", q, n, 10, 30, size.rate(), "m", List.of());
      run.await("a third handled, by both", size.patience(),
        () -> c1.handled(q) + c2.handled(q) >= n / 3 && c2.handled(q) > 0);
      long killMicros = EventLog.nowMicros();
      c2.proc.kill();
      c2.proc.awaitExit(Duration.ofSeconds(30));
      run.awaitFeedsDone();
      run.awaitAllHandled(q, Set.of());
      int status = c1.terminateAndWait();
      r.check(status == 0, "c1 exited with status " + status + " after SIGTERM");
      Tally t = run.tally(q, Set.of());
      r.counts(t);
      r.bound = "<= prefetch of the killed one (" + MAX_IN_FLIGHT + ")";
      r.check(t.duplicates <= MAX_IN_FLIGHT, t.duplicates + " duplicates exceed " + MAX_IN_FLIGHT);
      checkFirstHandledBy(r, t, t.duplicateIds(), "c2");
      r.notes.add(String.format(Locale.ROOT, "c2 killed after handling %,d; c1 handled the rest",
        countBefore(t, "c2", killMicros)));
    }
  }

  private static long countLines(Proc p, String fragment) {
    return p.output().lines().filter(l -> l.contains(fragment)).count();
  }

  /** Lines containing {@code fragment} logged before the runner was told to stop. */
  private static long countLinesBeforeStop(Proc p, String fragment) {
    long n = 0;
    for (String l : p.output().lines().toList()) {
      if (l.contains("received SIG")) {
        break;
      }
      if (l.contains(fragment)) {
        n++;
      }
    }
    return n;
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Scenario 5: one message of a queue always fails; it must reach the dead letter after exactly the configured
   * attempts, and the rest of its queue must flow at >= 0.9x the rate of a clean queue consumed by the same
   * process at the same time.
   */
  private void poison(Run run, ScenarioResult r) {
    int n = size.messages();
    int attempts = 3;
    String clean = run.queue + "-clean";
    String poisoned = run.queue + "-poisoned";
    boolean memory = run.transport.equals("memory");
    boolean http = run.transport.equals("http");
    String poisonId = (memory ? "m." + poisoned : "p") + "-" + (n / 10);
    List<String> args = concat(base(run, clean), List.of("--queue", poisoned, "--poison", poisonId,
      "--max-attempts", Integer.toString(attempts), "--backoff-ms", "100"));
    if (!http) {
      args = concat(args, List.of("--dlq"));
    }
    if (memory) {
      args = concat(args, run.selfFeed("p", n, 10, 30, size.rate(), "m"));
      args = concat(args, List.of("--self-queue", clean, "--self-queue", poisoned));
    }
    // both streams paced at the same rate, into one consumer process: each queue's rate is how fast the consumer
    // keeps up with it; a poison message that held up its queue longer than about a tenth of the stream shows
    Run.Node c = run.consumer("c1", args).awaitReady();
    if (!memory) {
      run.producer("pc", clean, n, 10, 30, size.rate(), "c", List.of());
      run.producer("pp", poisoned, n, 10, 30, size.rate(), "p", List.of());
    }
    run.awaitFeedsDone();
    Set<String> expectedDead = http ? Set.of() : Set.of(poisonId);
    run.awaitAllHandled(clean, Set.of());
    run.awaitAllHandled(poisoned, expectedDead);
    if (!http) {
      run.await("the poison message dead-lettered", size.patience(),
        () -> c.events.refresh().where(e -> "D".equals(e.getString("e")) && poisonId.equals(e.getString("id")))
          .size() > 0);
    }
    int status = c.terminateAndWait();
    r.check(status == 0, "consumer exited with status " + status + " after SIGTERM");
    Tally tc = run.tally(clean, Set.of());
    Tally tp = run.tally(poisoned, expectedDead);
    r.counts(tp);
    r.check(tc.lost.isEmpty(), tc.lost.size() + " lost on the clean queue");
    long failures = c.events.where(e -> "F".equals(e.getString("e")) && poisonId.equals(e.getString("id"))).size();
    r.check(failures == attempts, "the poison message was attempted " + failures + " times, not " + attempts);
    r.bound = "0";
    r.check(tp.duplicates == 0 && tc.duplicates == 0, "duplicates: " + tp.duplicates + " poisoned, " + tc.duplicates
      + " clean");
    if (http) {
      String err = tp.failed.get(poisonId);
      r.check(err != null && err.contains("500"), "the poison send did not fail with 500: " + err);
      r.check(tp.failed.size() == 1, (tp.failed.size() - 1) + " other sends failed");
      r.notes.add("poison answered 500 after " + failures + " attempts");
    } else {
      List<JsonObject> dead = c.events.of("D");
      JsonObject d = dead.stream().filter(e -> poisonId.equals(e.getString("id"))).findFirst().orElse(null);
      r.check(d != null, "the poison message is not in " + poisoned + ".dlq");
      if (d != null) {
        r.check(String.valueOf(attempts).equals(d.getString("attempts")), "dead letter says " + d.getString("attempts")
          + " attempts");
        r.check(d.getString("reason") != null && d.getString("reason").contains(attempts + " attempt"),
          "dead-letter reason: " + d.getString("reason"));
        r.notes.add("dead letter after " + d.getString("attempts") + " attempts, reason \"" + abbreviate(
          d.getString("reason"), 60) + "\"");
      }
      r.check(dead.size() == 1, dead.size() + " dead letters, expected only the poison message: " + dead);
    }
    double rc = rate(tc, Set.of());
    double rp = rate(tp, Set.of(poisonId));
    double ratio = rp / rc;
    r.notes.add(String.format(Locale.ROOT, "rest of the queue at %.0f msg/s vs clean %.0f msg/s in the same run "
      + "(%.2fx; both sent at %d msg/s)", rp, rc, ratio, size.rate()));
    r.check(ratio >= 0.9, String.format(Locale.ROOT, "poisoned queue flowed at %.2fx the clean one, below 0.9x", ratio));
  }

  /** Handled messages per second, from the first to the last handling. */
  private static double rate(Tally t, Set<String> exclude) {
    List<JsonObject> h = t.handledInOrder.stream().filter(e -> !exclude.contains(e.getString("id"))).toList();
    if (h.size() < 2) {
      return 0;
    }
    double seconds = (h.get(h.size() - 1).getLong("t") - h.get(0).getLong("t")) / 1e6;
    return (h.size() - 1) / Math.max(seconds, 1e-3);
  }

  private static String abbreviate(String s, int max) {
    return s == null || s.length() <= max ? s : s.substring(0, max - 3) + "...";
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Scenario 6: a handler taking 100 ms, 16 in flight, for the slow phase, with more messages waiting than it can
   * handle in that time; then fast until everything is handled. Heap after GC is sampled every second.
   */
  private void slowHandler(Run run, ScenarioResult r) {
    String q = run.queue;
    long slowMillis = size.slowPhase().toMillis();
    int backlog = size.slowBacklog();
    boolean broker = run.transport.equals("kafka") || run.transport.equals("rabbitmq");
    List<String> args = concat(base(run, q), List.of("--max-in-flight", Integer.toString(SLOW_MAX_IN_FLIGHT),
      "--max-pending", Integer.toString(SLOW_MAX_PENDING), "--delay-ms", Long.toString(SLOW_DELAY_MS), "--slow-for-ms", Long.toString(slowMillis),
      "--heap-probe-ms", "1000"));
    if (run.transport.equals("kafka")) {
      // a loop that stopped polling for longer than this would be thrown out of the group: make that visible
      args = concat(args, List.of("--config", "kafka.consumer.max.poll.interval.ms=" + Math.max(5_000, slowMillis / 2)));
    }
    Run.Node c;
    if (broker) {
      Run.Feed p = run.producer("p0", q, backlog, 20, 20, 0, "m", List.of("--pad", Integer.toString(SLOW_PAD)));
      run.await("the backlog produced", size.patience(), p::done);
      c = run.consumer("c1", args).awaitReady();
    } else if (run.transport.equals("memory")) {
      List<String> self = run.selfFeed("p0", backlog, 100, 100, 0, "m");
      self.addAll(List.of("--self-pad", Integer.toString(SLOW_PAD), "--self-pause-after-failure-ms", "50"));
      c = run.consumer("c1", concat(args, self)).awaitReady();
    } else {
      c = run.consumer("c1", args).awaitReady();
      run.producer("p0", q, backlog, 100, 100, 0, "m", List.of("--pad", Integer.toString(SLOW_PAD),
        "--pause-after-failure-ms", "50"));
    }
    run.awaitFeedsDone();
    run.awaitAllHandled(q, Set.of());
    int status = c.terminateAndWait();
    r.check(status == 0, "consumer exited with status " + status + " after SIGTERM");
    Tally t = run.tally(q, Set.of());
    r.counts(t);
    r.bound = "0";
    r.check(t.duplicates == 0, t.duplicates + " duplicates");
    long slowStart = t.handledInOrder.isEmpty() ? 0 : t.handledInOrder.get(0).getLong("t");
    long slowEnd = slowStart + slowMillis * 1000;
    long inSlow = t.handledInOrder.stream().filter(e -> e.getLong("t") <= slowEnd).count();
    long waitingAtEnd = t.confirmed.size() - inSlow;
    r.check(!broker || waitingAtEnd > 0, "no backlog left at the end of the slow phase: it did not test anything");
    List<JsonObject> heap = c.events.of("M");
    List<Long> idle = heap.stream().filter(e -> e.getLong("t") < slowStart).map(e -> e.getLong("used")).toList();
    List<Long> during = heap.stream().filter(e -> e.getLong("t") >= slowStart + 2_000_000 && e.getLong("t") <= slowEnd)
      .map(e -> e.getLong("used")).toList();
    long backlogBytes = (long) backlog * SLOW_PAD;
    long allowed = heldBound(run.transport);
    if (during.size() >= 4 && !idle.isEmpty()) {
      long base = idle.get(idle.size() - 1);
      // Even after a full GC the heap saw-tooths by up to 15 MB here (on Kafka, the records the client has fetched
      // ahead and not yet handed out), and medians of two or three samples followed it: a leak raises the floor,
      // so compare the lowest sample of the first and last third
      int third = Math.max(2, during.size() / 3);
      long early = Collections.min(during.subList(0, third));
      long late = Collections.min(during.subList(during.size() - third, during.size()));
      long max = during.stream().mapToLong(Long::longValue).max().orElse(0);
      long held = max - base;
      r.notes.add(String.format(Locale.ROOT, "%.0f s slow with %s: heap after GC %s idle, lowest %s in the first "
          + "third of the phase, %s in the last, at most %s over idle (bound %s)", slowMillis / 1000.0,
        broker ? String.format(Locale.ROOT, "%,d messages (%s) still waiting at its end", waitingAtEnd,
          mbText(waitingAtEnd * SLOW_PAD)) : "100 publishers pushing",
        mb(base), mb(early), mb(late), mb(held), mbText(allowed)));
      r.check(late - early < 8L << 20, "heap grew " + mb(late - early) + " during the slow phase");
      r.check(held < allowed, "heap held " + mb(held) + " over idle, more than the " + mbText(allowed) + " the "
        + "in-flight bounds allow");
      r.check(!broker || allowed < backlogBytes, "the backlog (" + mbText(backlogBytes) + ") is not larger than the "
        + "bound: the check proves nothing");
    } else {
      r.failures.add("too few heap samples: " + idle.size() + " idle, " + during.size() + " during the slow phase");
    }
    if (run.transport.equals("kafka")) {
      long assigned = countLinesBeforeStop(c.proc, "assigned");
      long revoked = countLinesBeforeStop(c.proc, "revoked from this member")
        + countLinesBeforeStop(c.proc, "lost partitions");
      r.check(assigned == 1 && revoked == 0, "rebalanced: " + assigned + " assignments, " + revoked + " revokes");
      r.notes.add("no rebalance (1 assignment, 0 revokes, max.poll.interval.ms " + Math.max(5_000, slowMillis / 2)
        + ")");
    }
    if (!broker) {
      r.notes.add(String.format(Locale.ROOT, "%,d sends refused while full (%s), retried by nobody: reported",
        t.failed.size(), run.transport.equals("http") ? "503" : "queue full"));
    }
  }

  /**
   * What the consumer may hold beyond idle, from its bounds: each held body counted twice (the client's bytes and
   * the message's buffer), plus the client's own buffers and 8 MiB for everything else.
   */
  private static long heldBound(String transport) {
    long perMessage = 2L * SLOW_PAD;
    long slack = 8L << 20;
    switch (transport) {
      // 2 x maxInFlight fetched ahead + two polls' batches; and two fetch responses of up to 1 MiB per partition
      // (3): records not yet polled keep their whole response alive while the next one arrives
      case "kafka":
        return (2L * SLOW_MAX_IN_FLIGHT + 2L * KAFKA_MAX_POLL_RECORDS) * perMessage + 2L * (3L << 20) + slack;
      case "rabbitmq": // prefetch = maxInFlight
        return SLOW_MAX_IN_FLIGHT * perMessage + slack;
      default: // push transports: maxInFlight + maxPending requests held
        return (SLOW_MAX_IN_FLIGHT + SLOW_MAX_PENDING) * perMessage + slack;
    }
  }

  private static String mb(long bytes) {
    return String.format(Locale.ROOT, "%.1f MB", bytes / 1048576.0);
  }

  private static String mbText(long bytes) {
    return String.format(Locale.ROOT, "%.0f MB", bytes / 1048576.0);
  }

  // ---------------------------------------------------------------------------------------------

  private static List<String> base(Run run, String q) {
    return concat(run.consumerSettings(), List.of("--queue", q, "--max-in-flight", Integer.toString(MAX_IN_FLIGHT)));
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> l = new ArrayList<>(a);
    l.addAll(b);
    return l;
  }

  /** Writes {@code text} to {@code file}, for reports. */
  static void write(Path file, String text) {
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, text, StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
