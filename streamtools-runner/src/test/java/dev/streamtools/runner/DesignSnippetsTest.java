package dev.streamtools.runner;

import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The two snippets of design.md section 2 compile as written (test sources {@code OrdersService} and
 * {@code ProducerSnippet}, default package, imports included) and run as written: {@code SnippetDriver}
 * runs {@code OrdersService.main} (it blocks in {@code ConsumerRunner.run()}) and then the producer
 * snippet in a separate JVM whose environment selects the transport, exactly as a user's would; the
 * test reads its output and stops it with SIGTERM.
 *
 * <p>The snippet hard-codes port 9000: these tests need it free.
 */
@Timeout(120)
class DesignSnippetsTest {

  private static final Duration STEP = Duration.ofSeconds(30);

  @Test
  void snippetsRunAsWrittenOnHttp() throws Exception {
    try (JavaProcess p = startDriver("http")) {
      p.awaitLine("the producer snippet's send accepted", "accepted by the transport"::equals, STEP);
      p.awaitLine("the untyped handler printing the snippet's message", "{\"id\":42}"::equals, STEP);

      // the typed route, fed by a plain HTTP client: no private wire format
      HttpResponse<String> order = HttpClient.newHttpClient().send(HttpRequest
          .newBuilder(URI.create("http://127.0.0.1:9000/orders"))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"o-7\",\"qty\":3}"))
          .timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
      assertThat(order.statusCode()).as(order.body()).isBetween(200, 299);
      p.awaitLine("the typed handler printing the order", "o-7 x3"::equals, STEP);

      assertStopsCleanlyOnSigterm(p, "http");
    }
  }

  /** Both snippets in one JVM: the producer's own Vertx reaches the runner's consumers (memory is JVM-wide). */
  @Test
  void snippetsRunAsWrittenOnMemory() throws Exception {
    try (JavaProcess p = startDriver("memory")) {
      p.awaitLine("the producer snippet's send accepted", "accepted by the transport"::equals, STEP);
      p.awaitLine("the untyped handler printing the snippet's message", "{\"id\":42}"::equals, STEP);
      assertStopsCleanlyOnSigterm(p, "memory");
    }
  }

  private static JavaProcess startDriver(String queueType) throws IOException {
    // a previous test's process may take a moment to let go of it
    try {
      await().atMost(Duration.ofSeconds(15)).until(() -> isFree(9000));
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("port 9000, which the design snippet hard-codes, is in use on this machine", e);
    }
    return JavaProcess.start(List.of("-cp", JavaProcess.testClassPath(), "SnippetDriver"),
      Map.of("QUEUE_TYPE", queueType));
  }

  private static void assertStopsCleanlyOnSigterm(JavaProcess p, String queueType) throws InterruptedException {
    assertThat(p.output()).contains("streamtools runner started").contains("transport " + queueType)
      .contains("queues [queue_1, orders]");
    int status = p.terminate(STEP);
    assertThat(status).as(p.output()).isZero();
    assertThat(p.output()).contains("received SIGTERM", "streamtools runner stopped cleanly",
      "driver: OrdersService.main returned", "driver: done");
  }

  private static boolean isFree(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("0.0.0.0", port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
