package dev.streamtools.faults;

import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The bad-input battery of issue 6: real requests to a runner process on HTTP, and records/messages published by
 * a plain client through each broker. Every input must get a clear answer (HTTP status with a JSON error body,
 * a dead letter with its reason, or a clear refusal by the client), the runner must stay up ({@code /health/live}
 * 200 after each input) and keep handling good messages (one sent after each bad one must be handled).
 */
public final class BadInput {

  /**
   * One input's outcome.
   *
   * @param transport where it was sent
   * @param input what was sent
   * @param outcome what came back
   * @param passed whether the outcome was a clear one and the runner then handled a good message
   * @param detail why it failed, if it did
   */
  public record Result(String transport, String input, String outcome, boolean passed, String detail) {

    static String header() {
      return "| transport | bad input | outcome | runner up, next good message handled |\n|---|---|---|---|";
    }

    String row() {
      return "| " + transport + " | " + input + " | " + md(outcome) + " | " + (passed ? "yes" : "**NO**: " + md(detail))
        + " |";
    }

    private static String md(String s) {
      String t = s == null ? "" : s.replace("|", "\\|").replace("\n", " ");
      return t.length() > 200 ? t.substring(0, 197) + "..." : t;
    }

    @Override
    public String toString() {
      return row();
    }
  }

  static final int DEEP = 100_000;
  static final int OVER_LIMIT = 2 * 1024 * 1024;

  private final Size size;
  private final Path base;

  /**
   * @param size how long waits may be
   * @param base where the runs keep their logs
   */
  public BadInput(Size size, Path base) {
    this.size = size;
    this.base = base;
  }

  /**
   * @param transport http, kafka or rabbitmq
   * @return one result per input
   */
  public List<Result> run(String transport) {
    Run run = new Run(transport, size, base, "bad");
    List<Result> results = new ArrayList<>();
    try (run) {
      switch (transport) {
        case "http": http(run, results); break;
        case "kafka": kafka(run, results); break;
        case "rabbitmq": RabbitBadInput.run(this, run, results); break;
        default: throw new IllegalArgumentException("no bad-input battery for " + transport);
      }
    } catch (Exception | AssertionError e) {
      results.add(new Result(transport, "(battery)", "did not complete", false, e.getMessage() + "\n" + run.dir));
    }
    return results;
  }

  // ---------------------------------------------------------------------------------------------
  // HTTP

  private void http(Run run, List<Result> results) {
    String q = run.queue;
    String typed = run.queue + "-typed";
    Run.Node c = run.consumer("c1", List.of("--transport", "http", "--port", Integer.toString(run.port),
      "--queue", q, "--typed-queue", typed)).awaitReady();
    int port = run.port;
    byte[][] json = RawHttp.headers("Content-Type: application/json");
    String p = "/" + q;
    String pt = "/" + typed;
    Http h = new Http(run, c, results, q);
    h.check("malformed JSON", "POST", p, json, utf8("{\"n\": 1, \"k\": "), status(400));
    h.check("binary garbage (4 KiB random bytes)", "POST", p, RawHttp.headers("Content-Type: application/octet-stream"),
      garbage(4096), status(400));
    h.check("empty body", "POST", p, json, new byte[0], status(400));
    h.check("invalid UTF-8 in a JSON string", "POST", p, json, invalidUtf8(), status(400));
    h.check("JSON nested " + DEEP + " arrays deep", "POST", p, json, nestedArrays(DEEP), status(400));
    h.check("JSON nested " + DEEP + " objects deep (typed route)", "POST", pt, json, nestedObjects(DEEP), status(400));
    h.check("body over the 1 MiB limit (2 MiB)", "POST", p, json, bigJson(OVER_LIMIT), status(413));
    h.check("unknown queue", "POST", "/no-such-queue-here", json, utf8("{\"n\":1}"), status(404));
    h.check("wrong method (GET on a POST route)", "GET", p, RawHttp.headers(), null, status(405));
    h.check("wrong method (DELETE)", "DELETE", p, RawHttp.headers(), null, status(405));
    h.check("wrong type for the typed route (array)", "POST", pt, json, utf8("[1,2,3]"), status(400));
    h.check("wrong type for the typed route (string for a number)", "POST", pt, json,
      utf8("{\"n\":\"many\",\"k\":\"k\",\"s\":0,\"pad\":\"\"}"), status(400));
    h.check("wrong type for the typed route (JSON null)", "POST", pt, json, utf8("null"), status(400));
    h.check("JSON array on a route that needs an object", "POST", p, json, utf8("[{\"n\":1}]"), status(400));
    h.check("header value of 64 KiB", "POST", p, concat(json, RawHttp.headers("X-Junk: " + "j".repeat(65_536))),
      good(), status(431));
    h.check("10,000 headers", "POST", p, concat(json, manyHeaders(10_000)), good(), status(431));
    h.check("control characters in a header value", "POST", p,
      concat(json, RawHttp.headers("X-Junk: a\u0001b\u0007c\u001bd")), good(), accepted().or(status(400)));
    h.check("non-ASCII (UTF-8) header value", "POST", p,
      concat(json, new byte[][] {utf8("X-Junk: caf\u00e9 \u6f22\u5b57 \ud83d\ude00")}), good(), accepted().or(status(400)));
    h.check("message id of 6,000 characters", "POST", p,
      concat(json, RawHttp.headers("X-Message-Id: " + "i".repeat(6_000))), good(), accepted().or(status(400)));
    h.check("control characters in the message id", "POST", p,
      concat(json, RawHttp.headers("X-Message-Id: id\u0001\u0002\u007f")), good(), accepted().or(status(400)));
    h.check("non-ASCII message id", "POST", p,
      concat(json, new byte[][] {utf8("X-Message-Id: \u00e9t\u00e9-\u6f22\u5b57")}), good(), accepted().or(status(400)));
    h.check("absurd timestamp header", "POST", p,
      concat(json, RawHttp.headers("X-Message-Timestamp: -99999999999999999999999")), good(),
      accepted().or(status(400)));
    h.check("absurd content type", "POST", p, RawHttp.headers("Content-Type: \u0000/\u00ff; charset=klingon"), good(),
      accepted().or(status(400)).or(status(415)));
  }

  private static Predicate<RawHttp.Response> status(int s) {
    return r -> r.status() == s && r.jsonError();
  }

  private static Predicate<RawHttp.Response> accepted() {
    return r -> r.status() == 204;
  }

  /** Sends one bad request, then checks liveness and that a good message is still handled. */
  private final class Http {
    private final Run run;
    private final Run.Node consumer;
    private final List<Result> results;
    private final String queue;
    private int goods;

    Http(Run run, Run.Node consumer, List<Result> results, String queue) {
      this.run = run;
      this.consumer = consumer;
      this.results = results;
      this.queue = queue;
    }

    void check(String input, String method, String path, byte[][] headers, byte[] body,
               Predicate<RawHttp.Response> expected) {
      RawHttp.Response r = RawHttp.send(run.port, method, path, headers, body);
      String problem = null;
      if (!expected.test(r)) {
        problem = "unexpected answer" + (r.status() >= 400 && !r.jsonError() ? " (no JSON error body)" : "");
      }
      String after = afterEach();
      if (after != null) {
        problem = problem == null ? after : problem + "; " + after;
      }
      results.add(new Result("http", input, r.describe(), problem == null, problem));
    }

    /** @return what is wrong after a bad input, or null */
    String afterEach() {
      if (!consumer.proc.isAlive()) {
        return "the runner died:\n" + consumer.proc.tail(30);
      }
      int live = Run.httpGet(run.port, "/health/live");
      if (live != 200) {
        return "/health/live answered " + live;
      }
      String id = "good-" + (++goods);
      RawHttp.Response r = RawHttp.send(run.port, "POST", "/" + queue,
        RawHttp.headers("Content-Type: application/json", "X-Message-Id: " + id), good());
      if (r.status() != 204) {
        return "the next good message got " + r.describe();
      }
      return handled(consumer, id);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Kafka

  private void kafka(Run run, List<Result> results) throws Exception {
    String q = run.queue;
    String typed = run.queue + "-typed";
    Run.Node c = run.consumer("c1", concat(run.consumerSettings(), List.of("--queue", q, "--typed-queue", typed,
      "--dlq"))).awaitReady();
    Map<String, Object> props = Map.of(
      ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, System.getenv().getOrDefault("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
      ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
      ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
      ProducerConfig.ACKS_CONFIG, "all",
      ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000,
      ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
      Broker b = new Broker(run, c, results, "kafka") {
        @Override
        String publish(String topic, String id, byte[] body, Map<String, byte[]> headers) throws Exception {
          RecordHeaders h = new RecordHeaders();
          if (id != null) {
            h.add("message-id", utf8(id));
          }
          headers.forEach(h::add);
          // one key: bad and good records share a partition, so the good one comes after the bad one is settled
          producer.send(new ProducerRecord<>(topic, null, utf8("bad-input"), body, h)).get(30, TimeUnit.SECONDS);
          return null;
        }
      };
      b.deadLetter("malformed JSON", q, utf8("{\"n\": 1, \"k\": "), Map.of());
      b.deadLetter("binary garbage (4 KiB random bytes)", q, garbage(4096), Map.of());
      b.deadLetter("empty body", q, new byte[0], Map.of());
      b.deadLetter("null value (tombstone)", q, null, Map.of());
      b.deadLetter("invalid UTF-8 in a JSON string", q, invalidUtf8(), Map.of());
      b.deadLetter("JSON nested " + DEEP + " arrays deep", q, nestedArrays(DEEP), Map.of());
      b.deadLetter("JSON nested " + DEEP + " objects deep (typed route)", typed, nestedObjects(DEEP), Map.of());
      b.refused("record over the 1 MiB limit (2 MiB)", q, bigJson(OVER_LIMIT), Map.of());
      b.deadLetter("wrong type for the typed route (array)", typed, utf8("[1,2,3]"), Map.of());
      b.deadLetter("wrong type for the typed route (string for a number)", typed,
        utf8("{\"n\":\"many\",\"k\":\"k\",\"s\":0,\"pad\":\"\"}"), Map.of());
      b.deadLetter("wrong type for the typed route (JSON null)", typed, utf8("null"), Map.of());
      b.handledOrDead("header value of 64 KiB", q, Map.of("x-junk", utf8("j".repeat(65_536))));
      b.handledOrDead("invalid UTF-8 header value", q, Map.of("x-junk", new byte[] {(byte) 0xff, (byte) 0xfe, 0x28}));
      b.handledOrDead("control characters in a header value", q, Map.of("x-junk", utf8("a\u0001b\u0000c")));
      b.handledOrDead("absurd x-attempt / dead-letter headers", q, Map.of("x-attempt", utf8("-99999999999"),
        "x-dead-letter-reason", utf8("forged"), "x-dead-letter-attempts", utf8("abc")));
      b.handledOrDeadWithId("message id of 100,000 characters", q, "i".repeat(100_000), Map.of());
      b.handledOrDeadWithId("message id with control characters and invalid UTF-8", q, "id\u0001\u0000\ufffd",
        Map.of());
      results.add(new Result("kafka", "unknown queue", "n/a: a Kafka producer may write to any topic (created on "
        + "first use); nothing consumes it", true, null));
      results.add(new Result("kafka", "wrong method", "n/a: no methods on Kafka", true, null));
    }
  }

  /** The checks shared by the broker batteries: publish a bad message, then a good one, and watch the events. */
  abstract class Broker {
    final Run run;
    final Run.Node consumer;
    final List<Result> results;
    final String transport;
    private int n;

    Broker(Run run, Run.Node consumer, List<Result> results, String transport) {
      this.run = run;
      this.consumer = consumer;
      this.results = results;
      this.transport = transport;
    }

    /**
     * Publishes with a plain client; {@code id} null for none.
     *
     * @return null when the broker took it, else the client's refusal
     */
    abstract String publish(String queue, String id, byte[] body, Map<String, byte[]> headers) throws Exception;

    void deadLetter(String input, String queue, byte[] body, Map<String, byte[]> headers) throws Exception {
      String id = "bad-" + (++n);
      String refused = publish(queue, id, body, headers);
      if (refused != null) {
        add(input, "refused: " + refused, "a broker that refuses this input cannot test the consumer");
        return;
      }
      String problem = awaitDeadLetter(id);
      add(input, problem == null ? describeDead(id) : "not dead-lettered", problem);
    }

    void refused(String input, String queue, byte[] body, Map<String, byte[]> headers) throws Exception {
      String id = "bad-" + (++n);
      String refused;
      try {
        refused = publish(queue, id, body, headers);
      } catch (Exception e) {
        refused = rootCause(e);
      }
      if (refused == null) {
        String problem = awaitDeadLetter(id);
        add(input, problem == null ? describeDead(id) : "taken by the broker and not dead-lettered", problem);
      } else {
        add(input, "refused: " + refused, null);
      }
    }

    void handledOrDead(String input, String queue, Map<String, byte[]> headers) throws Exception {
      handledOrDead(input, queue, "bad-" + (++n), goodBody(), headers);
    }

    void handledOrDeadBody(String input, String queue, byte[] body) throws Exception {
      handledOrDead(input, queue, "bad-" + (++n), body, Map.of());
    }

    void handledOrDeadWithId(String input, String queue, String id, Map<String, byte[]> headers) throws Exception {
      handledOrDead(input, queue, id, goodBody(), headers);
    }

    private void handledOrDead(String input, String queue, String id, byte[] body, Map<String, byte[]> headers)
      throws Exception {
      String refused;
      try {
        refused = publish(queue, id, body, headers);
      } catch (Exception e) {
        refused = rootCause(e);
      }
      if (refused != null) {
        add(input, "refused: " + refused, null);
        return;
      }
      String[] outcome = new String[1];
      try {
        run.await(input + " handled or dead-lettered", Duration.ofSeconds(30), () -> {
          Events e = consumer.events.refresh();
          if (!e.where(x -> "H".equals(x.getString("e")) && id.equals(x.getString("id"))).isEmpty()) {
            outcome[0] = "handled (a legal if odd message)";
            return true;
          }
          if (!e.where(x -> "D".equals(x.getString("e")) && id.equals(x.getString("id"))).isEmpty()) {
            outcome[0] = describeDead(id);
            return true;
          }
          return false;
        });
      } catch (AssertionError e) {
        add(input, "neither handled nor dead-lettered in 30 s", firstLine(e.getMessage()));
        return;
      }
      add(input, outcome[0], null);
    }

    private String awaitDeadLetter(String id) {
      try {
        run.await(id + " dead-lettered", Duration.ofSeconds(30), () -> !consumer.events.refresh()
          .where(x -> "D".equals(x.getString("e")) && id.equals(x.getString("id"))).isEmpty());
        return null;
      } catch (AssertionError e) {
        boolean handled = !consumer.events.where(x -> "H".equals(x.getString("e")) && id.equals(x.getString("id")))
          .isEmpty();
        return handled ? "the handler took it as a good message" : "no dead letter within 30 s";
      }
    }

    String describeDead(String id) {
      JsonObject d = consumer.events.where(x -> "D".equals(x.getString("e")) && id.equals(x.getString("id"))).get(0);
      return "dead letter on " + d.getString("q") + ", reason \"" + abbreviate(d.getString("reason"), 110) + "\"";
    }

    private void add(String input, String outcome, String problem) throws Exception {
      String after = afterEach();
      String p = problem;
      if (after != null) {
        p = p == null ? after : p + "; " + after;
      }
      results.add(new Result(transport, input, outcome, p == null, p));
    }

    /** @return what is wrong after a bad input, or null */
    String afterEach() throws Exception {
      if (!consumer.proc.isAlive()) {
        return "the runner died:\n" + consumer.proc.tail(30);
      }
      int live = Run.httpGet(consumer.port(), "/health/live");
      if (live != 200) {
        return "/health/live answered " + live;
      }
      String id = "good-" + (++n);
      String refused = publish(run.queue, id, goodBody(), Map.of());
      if (refused != null) {
        return "the good message was refused: " + refused;
      }
      return handled(consumer, id);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private static String handled(Run.Node consumer, String id) {
    try {
      Awaitility.await(id + " handled").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
        .until(() -> !consumer.events.refresh()
          .where(x -> "H".equals(x.getString("e")) && id.equals(x.getString("id"))).isEmpty());
      return null;
    } catch (ConditionTimeoutException e) {
      return "the next good message " + id + " was not handled within 30 s";
    }
  }

  static String rootCause(Throwable e) {
    Throwable c = e;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    String s = c.getClass().getSimpleName() + ": " + c.getMessage();
    return abbreviate(s, 160);
  }

  static String abbreviate(String s, int max) {
    return s == null || s.length() <= max ? s : s.substring(0, max - 3) + "...";
  }

  private static String firstLine(String s) {
    if (s == null) {
      return null;
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] good() {
    return goodBody();
  }

  static byte[] goodBody() {
    return utf8("{\"n\":0,\"k\":\"k0\",\"s\":0,\"pad\":\"\"}");
  }

  static byte[] garbage(int n) {
    byte[] b = new byte[n];
    new Random(42).nextBytes(b);
    return b;
  }

  static byte[] invalidUtf8() {
    byte[] prefix = utf8("{\"n\":1,\"k\":\"");
    byte[] bad = {(byte) 0xc3, 0x28, (byte) 0xa0, (byte) 0xff};
    byte[] suffix = utf8("\",\"s\":0}");
    byte[] b = new byte[prefix.length + bad.length + suffix.length];
    System.arraycopy(prefix, 0, b, 0, prefix.length);
    System.arraycopy(bad, 0, b, prefix.length, bad.length);
    System.arraycopy(suffix, 0, b, prefix.length + bad.length, suffix.length);
    return b;
  }

  static byte[] nestedArrays(int depth) {
    return utf8("[".repeat(depth) + "]".repeat(depth));
  }

  static byte[] nestedObjects(int depth) {
    return utf8("{\"a\":".repeat(depth) + "1" + "}".repeat(depth));
  }

  static byte[] bigJson(int bytes) {
    return utf8("{\"n\":1,\"k\":\"k\",\"s\":0,\"pad\":\"" + "x".repeat(bytes) + "\"}");
  }

  private static byte[][] manyHeaders(int n) {
    String[] lines = new String[n];
    for (int i = 0; i < n; i++) {
      lines[i] = String.format(Locale.ROOT, "X-H%d: v", i);
    }
    return RawHttp.headers(lines);
  }

  private static byte[][] concat(byte[][] a, byte[][] b) {
    byte[][] c = new byte[a.length + b.length][];
    System.arraycopy(a, 0, c, 0, a.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> l = new ArrayList<>(a);
    l.addAll(b);
    return l;
  }
}
