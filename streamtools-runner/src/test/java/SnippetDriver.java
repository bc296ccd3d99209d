import io.vertx.core.Vertx;
import org.awaitility.Awaitility;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Runs the two design.md snippets as written, in one process, for DesignSnippetsTest: OrdersService.main
 * (which blocks in ConsumerRunner.run() until SIGTERM), then, once its readiness endpoint answers 200, the
 * producer snippet. The test reads this process's output and ends it with SIGTERM.
 */
public final class SnippetDriver {

  private SnippetDriver() {
  }

  public static void main(String[] args) throws Exception {
    Thread service = new Thread(() -> OrdersService.main(new String[0]), "orders-service-main");
    service.start();
    awaitReady(service);
    System.out.println("driver: service ready, running the producer snippet");
    Vertx producerVertx = ProducerSnippet.run();
    service.join();
    System.out.println("driver: OrdersService.main returned");
    producerVertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    System.out.println("driver: done");
  }

  private static void awaitReady(Thread service) {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:9000/health/ready"))
      .timeout(Duration.ofSeconds(2)).build();
    Awaitility.await("OrdersService ready on port 9000").atMost(Duration.ofSeconds(30))
      .pollInterval(Duration.ofMillis(50))
      .until(() -> {
        if (!service.isAlive()) {
          System.out.println("driver: OrdersService.main ended before it was ready");
          System.exit(3);
        }
        try {
          return client.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException notListeningYet) {
          return false;
        }
      });
  }
}
