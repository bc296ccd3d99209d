package dev.streamtools.faults;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.impl.LongStringHelper;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The bad-input battery through RabbitMQ: a plain amqp-client publisher (publisher confirms, {@code mandatory}), as
 * any other program would publish, into the queues a runner process consumes.
 */
final class RabbitBadInput {

  private RabbitBadInput() {
  }

  static void run(BadInput battery, Run run, List<BadInput.Result> results) throws Exception {
    String q = run.queue;
    String typed = run.queue + "-typed";
    Run.Node c = run.consumer("c1", concatArgs(run.consumerSettings(), List.of("--queue", q, "--typed-queue", typed,
      "--dlq"))).awaitReady();
    ConnectionFactory f = new ConnectionFactory();
    f.setHost(env("RMQ_HOST", "127.0.0.1"));
    f.setPort(Integer.parseInt(env("RMQ_PORT", "5672")));
    f.setUsername(env("RMQ_USER", "guest"));
    f.setPassword(env("RMQ_PASS", "guest"));
    f.setAutomaticRecoveryEnabled(false);
    Publisher publisher = new Publisher(f);
    try {
      BadInput.Broker b = battery.new Broker(run, c, results, "rabbitmq") {
        @Override
        String publish(String queue, String id, byte[] body, Map<String, byte[]> headers) throws Exception {
          Map<String, Object> h = new LinkedHashMap<>();
          headers.forEach((k, v) -> h.put(k, LongStringHelper.asLongString(v)));
          return publisher.publish(queue, new AMQP.BasicProperties.Builder().messageId(id).deliveryMode(2)
            .contentType("application/json").headers(h).build(), body == null ? new byte[0] : body);
        }
      };
      b.deadLetter("malformed JSON", q, BadInput.utf8("{\"n\": 1, \"k\": "), Map.of());
      b.deadLetter("binary garbage (4 KiB random bytes)", q, BadInput.garbage(4096), Map.of());
      b.deadLetter("empty body", q, new byte[0], Map.of());
      b.deadLetter("invalid UTF-8 in a JSON string", q, BadInput.invalidUtf8(), Map.of());
      b.deadLetter("JSON nested " + BadInput.DEEP + " arrays deep", q, BadInput.nestedArrays(BadInput.DEEP), Map.of());
      b.deadLetter("JSON nested " + BadInput.DEEP + " objects deep (typed route)", typed,
        BadInput.nestedObjects(BadInput.DEEP), Map.of());
      b.handledOrDeadBody("body of 2 MiB (over HTTP's 1 MiB limit; RabbitMQ's max_message_size is 128 MiB)", q,
        BadInput.bigJson(BadInput.OVER_LIMIT));
      b.deadLetter("wrong type for the typed route (array)", typed, BadInput.utf8("[1,2,3]"), Map.of());
      b.deadLetter("wrong type for the typed route (string for a number)", typed,
        BadInput.utf8("{\"n\":\"many\",\"k\":\"k\",\"s\":0,\"pad\":\"\"}"), Map.of());
      b.deadLetter("wrong type for the typed route (JSON null)", typed, BadInput.utf8("null"), Map.of());
      b.refused("unknown queue (mandatory publish to a queue nobody declared)", "no-such-queue-" + run.queue,
        BadInput.goodBody(), Map.of());
      b.handledOrDead("header value of 64 KiB", q, Map.of("x-junk", BadInput.utf8("j".repeat(65_536))));
      b.refused("header value of 200 KiB (over the 128 KiB frame_max)", q, BadInput.goodBody(),
        Map.of("x-junk", BadInput.utf8("j".repeat(200 * 1024))));
      b.handledOrDead("invalid UTF-8 header value", q, Map.of("x-junk", new byte[] {(byte) 0xff, (byte) 0xfe, 0x28}));
      b.handledOrDead("control characters in a header value", q, Map.of("x-junk", BadInput.utf8("a\u0001b\u0000c")));
      b.handledOrDead("x-attempt = \"abc\"", q, Map.of("x-attempt", BadInput.utf8("abc")));
      b.handledOrDead("x-attempt = -99999999999", q, Map.of("x-attempt", BadInput.utf8("-99999999999")));
      b.handledOrDead("forged dead-letter headers, absurd timestamp_in_ms", q, Map.of("x-dead-letter-reason",
        BadInput.utf8("forged"), "x-dead-letter-attempts", BadInput.utf8("abc"), "timestamp_in_ms",
        BadInput.utf8("not a number")));
      b.handledOrDeadWithId("message id of 300 characters (AMQP short strings hold 255 bytes)", q, "i".repeat(300),
        Map.of());
      b.handledOrDeadWithId("message id with control characters", q, "id\u0001\u0000\u007f", Map.of());
      results.add(new BadInput.Result("rabbitmq", "wrong method", "n/a: no methods on AMQP", true, null));
    } finally {
      publisher.close();
    }
  }

  /** A confirm-mode channel that reports a return or a nack as a refusal, and reconnects after a channel error. */
  private static final class Publisher {
    private final ConnectionFactory factory;
    private Connection connection;
    private Channel channel;
    private final AtomicReference<String> returned = new AtomicReference<>();

    Publisher(ConnectionFactory factory) {
      this.factory = factory;
    }

    String publish(String queue, AMQP.BasicProperties props, byte[] body) throws Exception {
      try {
        Channel ch = channel();
        returned.set(null);
        ch.basicPublish("", queue, true, props, body);
        if (!ch.waitForConfirms(TimeUnit.SECONDS.toMillis(30))) {
          return "nacked by the broker";
        }
        return returned.get();
      } catch (Exception e) {
        // the broker closes the channel (or the connection) on a protocol error: start afresh next time
        close();
        return BadInput.rootCause(e);
      }
    }

    private Channel channel() throws Exception {
      if (connection == null || !connection.isOpen()) {
        connection = factory.newConnection("streamtools-faults bad-input publisher");
        channel = null;
      }
      if (channel == null || !channel.isOpen()) {
        channel = connection.createChannel();
        channel.confirmSelect();
        channel.addReturnListener(r -> returned.set("returned by the broker: " + r.getReplyCode() + " "
          + r.getReplyText()));
      }
      return channel;
    }

    void close() {
      try {
        if (connection != null && connection.isOpen()) {
          connection.close(5_000);
        }
      } catch (Exception e) {
        // nothing left to release
      }
      connection = null;
      channel = null;
    }
  }

  private static String env(String name, String def) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? def : v;
  }

  private static List<String> concatArgs(List<String> a, List<String> b) {
    List<String> l = new java.util.ArrayList<>(a);
    l.addAll(b);
    return l;
  }
}
