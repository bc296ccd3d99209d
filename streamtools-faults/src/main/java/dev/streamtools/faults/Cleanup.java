package dev.streamtools.faults;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Deletes what a run declared on a shared broker (its queues, topics and their dead-letter queues), so repeated
 * runs do not pile up durable queues and topics. Best effort: a failure is logged, the counts already stand.
 */
final class Cleanup {

  private static final Logger LOG = LoggerFactory.getLogger(Cleanup.class);
  private static final List<String> VARIANTS = List.of("", "-clean", "-poisoned", "-typed");
  private static final List<String> SUFFIXES = List.of("", ".dlq", ".dlq.dlq");

  private Cleanup() {
  }

  static void after(String transport, String prefix) {
    try {
      if (transport.equals("rabbitmq")) {
        rabbitmq(prefix);
      } else if (transport.equals("kafka")) {
        kafka(prefix);
      }
    } catch (Exception e) {
      LOG.warn("could not delete the queues of {} on {}: {}", prefix, transport, e.toString());
    } catch (AssertionError e) {
      LOG.warn("could not delete the queues of {} on {}: {}", prefix, transport, e.getMessage());
    }
  }

  private static void rabbitmq(String prefix) throws Exception {
    ConnectionFactory f = new ConnectionFactory();
    f.setHost(env("RMQ_HOST", "127.0.0.1"));
    f.setPort(Integer.parseInt(env("RMQ_PORT", "5672")));
    f.setUsername(env("RMQ_USER", "guest"));
    f.setPassword(env("RMQ_PASS", "guest"));
    f.setConnectionTimeout(5_000);
    try (Connection c = f.newConnection("streamtools-faults cleanup"); Channel ch = c.createChannel()) {
      for (String v : VARIANTS) {
        for (String s : SUFFIXES) {
          ch.queueDelete(prefix + v + s); // idempotent: a queue that is not there is fine
        }
      }
    }
  }

  private static void kafka(String prefix) throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
      env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"), AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 15_000))) {
      Set<String> topics = admin.listTopics().names().get(15, TimeUnit.SECONDS).stream()
        .filter(t -> t.startsWith(prefix)).collect(Collectors.toSet());
      if (!topics.isEmpty()) {
        admin.deleteTopics(topics).all().get(30, TimeUnit.SECONDS);
      }
    }
  }

  private static String env(String name, String def) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? def : v;
  }
}
