package dev.streamtools.rabbitmq;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.streamtools.testkit.Brokers;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Test helpers: the broker's address, a plain amqp-client for checks and clean-up, and rabbitmqctl. */
final class Rmq {

  /** The vhost fault tests use, so that closing its connections disturbs nobody else on the broker. */
  static final String FAULT_VHOST = "streamtools-test";
  static final Duration WAIT = Duration.ofSeconds(60);

  private static volatile boolean faultVhostReady;

  private Rmq() {
  }

  /** @return settings for the test broker, with fast reconnects */
  static JsonObject config() {
    Brokers.requireRabbitMq();
    return new JsonObject()
      .put(RabbitMqSettings.HOST, Brokers.rabbitMqHost())
      .put(RabbitMqSettings.PORT, Brokers.rabbitMqPort())
      .put(RabbitMqSettings.RECONNECT_INITIAL_MS, 100)
      .put(RabbitMqSettings.RECONNECT_MAX_MS, 1000);
  }

  /** @return settings on {@link #FAULT_VHOST}, created (with guest's permissions) on first use */
  static JsonObject faultConfig() throws Exception {
    if (!faultVhostReady) {
      rabbitmqctl("add_vhost", FAULT_VHOST);
      rabbitmqctl("set_permissions", "-p", FAULT_VHOST, "guest", ".*", ".*", ".*");
      faultVhostReady = true;
    }
    return config().put(RabbitMqSettings.VHOST, FAULT_VHOST);
  }

  static String queue(String base) {
    return "st-rmq-" + base + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** A plain client, as another application would connect. */
  static Connection plainConnection(String vhost) throws Exception {
    ConnectionFactory f = new ConnectionFactory();
    f.setHost(Brokers.rabbitMqHost());
    f.setPort(Brokers.rabbitMqPort());
    f.setVirtualHost(vhost);
    f.setAutomaticRecoveryEnabled(false);
    return f.newConnection("streamtools-test plain client");
  }

  static Connection plainConnection() throws Exception {
    return plainConnection("/");
  }

  /** Deletes queues (and their DLQs) on a vhost; missing ones are fine. */
  static void deleteQueuesOn(String vhost, String... queues) {
    try (Connection c = plainConnection(vhost)) {
      for (String q : queues) {
        for (String name : List.of(q, q + ".dlq", q + ".dlq.dlq")) {
          Channel ch = c.createChannel();
          try {
            ch.queueDelete(name);
          } catch (IOException ignored) {
            // not there
          } finally {
            if (ch.isOpen()) {
              ch.close();
            }
          }
        }
      }
    } catch (Exception e) {
      throw new AssertionError("could not delete test queues " + Arrays.toString(queues), e);
    }
  }

  static void deleteQueues(String... queues) {
    deleteQueuesOn("/", queues);
  }

  /** @return a message from the queue with a plain basic.get, waiting up to {@link #WAIT} */
  static GetResponse get(Channel ch, String queue) {
    AtomicReference<GetResponse> got = new AtomicReference<>();
    await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(() -> {
      got.set(ch.basicGet(queue, true));
      return got.get() != null;
    });
    return got.get();
  }

  /** Runs rabbitmqctl, bounded, and fails the test if it fails. */
  static String rabbitmqctl(String... args) throws Exception {
    return run(Duration.ofSeconds(60), prepend("rabbitmqctl", args));
  }

  /** @return how many deliveries of the queue the broker counts as unacknowledged */
  static long unacked(String vhost, String queue) throws Exception {
    return queueColumn(vhost, queue, "messages_unacknowledged");
  }

  /** @return how many messages of the queue are ready for delivery */
  static long ready(String vhost, String queue) throws Exception {
    return queueColumn(vhost, queue, "messages_ready");
  }

  private static long queueColumn(String vhost, String queue, String column) throws Exception {
    String out = rabbitmqctl("list_queues", "-q", "-p", vhost, "name", column);
    for (String line : out.split("\n")) {
      String[] cols = line.trim().split("\\s+");
      if (cols.length == 2 && cols[0].equals(queue)) {
        return Long.parseLong(cols[1]);
      }
    }
    throw new AssertionError("queue " + queue + " not listed by rabbitmqctl:\n" + out);
  }

  /** @return the broker's ids (Erlang pids) of the connections open on a vhost */
  static Set<String> connectionPids(String vhost, String connectionName) throws Exception {
    String out = rabbitmqctl("list_connections", "-q", "-p", vhost, "pid", "client_properties");
    Set<String> pids = new HashSet<>();
    for (String line : out.split("\n")) {
      String trimmed = line.trim();
      if (trimmed.startsWith("<") && trimmed.contains(connectionName)) {
        pids.add(trimmed.split("\\s+", 2)[0]);
      }
    }
    return pids;
  }

  /** Force-closes, broker-side, every connection on {@link #FAULT_VHOST}. */
  static void closeFaultVhostConnections() throws Exception {
    rabbitmqctl("close_all_connections", "--vhost", FAULT_VHOST, "--limit", "1000", "streamtools fault test");
  }

  static String run(Duration timeout, String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    InputStream in = p.getInputStream();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Thread reader = new Thread(() -> {
      try {
        in.transferTo(out);
      } catch (IOException ignored) {
        // process gone
      }
    });
    reader.start();
    if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", command) + " did not finish within " + timeout);
    }
    reader.join(5000);
    String output = out.toString(StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as("exit code of %s; output:%n%s", String.join(" ", command), output).isZero();
    return output;
  }

  /** @return the result of {@code action}, started on {@code context} (waiting up to {@link #WAIT}) */
  static <T> T on(Context context, Supplier<Future<T>> action) throws Exception {
    Promise<T> result = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(result));
    return join(result.future());
  }

  static <T> T join(Future<T> f) throws Exception {
    try {
      return f.toCompletionStage().toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception) {
        throw (Exception) e.getCause();
      }
      throw e;
    }
  }

  /** @return the failure of a Future expected to fail within {@link #WAIT} */
  static Throwable failureOf(Future<?> f) throws Exception {
    try {
      f.toCompletionStage().toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("expected the future to fail, it succeeded");
  }

  private static String[] prepend(String first, String[] rest) {
    List<String> all = new ArrayList<>();
    all.add(first);
    all.addAll(Arrays.asList(rest));
    return all.toArray(new String[0]);
  }
}
