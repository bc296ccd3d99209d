package dev.streamtools.runner;

import dev.streamtools.ConsumerFactory;
import dev.streamtools.StreamtoolsException;
import dev.streamtools.runner.example.DemoProducer;
import dev.streamtools.runner.example.OrdersService;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The runnable jar's entry point: runs the example {@link OrdersService} on the chosen transport, with a
 * demo producer in the same process, until SIGTERM/SIGINT or until a bounded demo is done.
 * Exit status: 0 after a graceful stop, 1 if the service failed, 2 for a bad command line.
 */
@Command(name = "streamtools-runner", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
  sortOptions = false, usageHelpAutoWidth = true,
  description = {
    "Runs the streamtools example service: queue 'queue_1' (any JSON) and queue 'orders' (JSON decoded into "
      + "an Order record), with a demo producer sending to both over the same transport.",
    "Health: GET /health/live and /health/ready on the port. Stop with Ctrl-C or SIGTERM: intake stops, "
      + "in-flight messages finish, then it exits 0."})
public final class Main implements Callable<Integer> {

  /** Bound on waiting, after a bounded demo, for the handlers to see what the producers sent. */
  private static final long HANDLED_WAIT_MS = 30_000;

  @Option(names = "--queue-type", paramLabel = "TYPE", defaultValue = "${env:QUEUE_TYPE:-http}",
    description = "Transport: http (no broker), memory (in-process), rabbitmq or kafka. "
      + "Env QUEUE_TYPE; default: ${DEFAULT-VALUE}.")
  String queueType;

  @Option(names = "--port", paramLabel = "PORT", defaultValue = "${env:HTTP_PORT:-9000}",
    description = "Port of the health endpoints and, for http, of the queues; 0 picks a free one. "
      + "Env HTTP_PORT; default: ${DEFAULT-VALUE}.")
  int port;

  @Option(names = "--host", paramLabel = "HOST", defaultValue = ConsumerRunner.DEFAULT_HOST,
    description = "Interface to listen on; default: ${DEFAULT-VALUE}.")
  String host;

  @Option(names = "--produce", paramLabel = "N",
    description = "Demo producer: send N rounds (one order and one queue_1 message each), wait until they are "
      + "handled, then stop. 0: no demo producer, just serve. Default: produce until stopped.")
  Long produce;

  @Option(names = "--interval", paramLabel = "MS", defaultValue = "500",
    description = "Milliseconds between demo rounds; default: ${DEFAULT-VALUE}.")
  long intervalMillis;

  private Main() {
  }

  /**
   * @param args see {@code --help}
   */
  public static void main(String[] args) {
    configureLogging();
    int status = new CommandLine(new Main()).execute(args);
    System.exit(status);
  }

  @Override
  public Integer call() {
    Logger log = LoggerFactory.getLogger(Main.class);
    Vertx vertx = Vertx.vertx();
    try {
      OrdersService service = new OrdersService();
      ConsumerFactory consumers = service.routes(new ConsumerFactory(queueType, port));
      ConsumerRunner runner = new ConsumerRunner(vertx, consumers.instances(), consumers.handlers(), port, host);
      Future<DemoProducer> demo = null;
      AtomicBoolean demoFailed = new AtomicBoolean();
      if (produce == null || produce != 0) {
        demo = runner.start().compose(v -> startDemo(vertx, consumers.queueType(), runner));
        demo.onFailure(e -> {
          if (runner.isReady()) { // a failed runner start is run()'s to report
            demoFailed.set(true);
            log.error("demo producer failed: {}", e.getMessage());
            runner.stop();
          }
        });
        if (produce != null) {
          demo.compose(d -> d.done().compose(v -> awaitHandled(vertx, service, d))).onComplete(ar -> runner.stop());
        }
      }
      runner.run();
      if (demo != null && demo.succeeded()) {
        DemoProducer d = demo.result();
        d.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        log.info("demo producer: {} messages produced, {} failed; service: {} handled", d.sent(), d.failed(),
          service.handled());
      }
      return demoFailed.get() ? 1 : 0;
    } catch (StreamtoolsException e) {
      // its message names what is wrong and where; the stack trace would only bury it
      log.error("{}", e.getMessage());
      log.debug("stack trace", e);
      return 1;
    } catch (Exception e) {
      log.error("failed: {}", e.toString(), e);
      return 1;
    } finally {
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("could not close Vert.x: {}", e.toString());
      }
    }
  }

  /** The demo sends where the service listens: for http, the runner's own port on this machine. */
  private Future<DemoProducer> startDemo(Vertx vertx, String transport, ConsumerRunner runner) {
    boolean wildcard = host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
    JsonObject config = new JsonObject()
      .put("HTTP_HOST", wildcard ? "127.0.0.1" : host)
      .put("HTTP_PORT", runner.actualPort());
    DemoProducer demo = new DemoProducer(vertx, transport, config, produce == null ? -1 : produce, intervalMillis,
      runner::isReady);
    return demo.start().map(demo);
  }

  private static Future<Void> awaitHandled(Vertx vertx, OrdersService service, DemoProducer demo) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(HANDLED_WAIT_MS);
    Promise<Void> handled = Promise.promise();
    vertx.setPeriodic(0, 20, id -> {
      if (service.handled() >= demo.sent() || System.nanoTime() > deadline) {
        vertx.cancelTimer(id);
        LoggerFactory.getLogger(Main.class).info("demo done: {} produced, {} handled; stopping", demo.sent(),
          service.handled());
        handled.tryComplete();
      }
    });
    return handled.future();
  }

  private static void configureLogging() {
    setDefault("org.slf4j.simpleLogger.logFile", "System.out");
    setDefault("org.slf4j.simpleLogger.showDateTime", "true");
    setDefault("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
    setDefault("org.slf4j.simpleLogger.showThreadName", "false");
    setDefault("org.slf4j.simpleLogger.showShortLogName", "true");
    // the Kafka and RabbitMQ clients narrate every connection at INFO
    setDefault("org.slf4j.simpleLogger.log.org.apache.kafka", "warn");
    setDefault("org.slf4j.simpleLogger.log.com.rabbitmq", "warn");
  }

  private static void setDefault(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }

  /** Reads the version the jar's manifest carries. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"streamtools-runner " + (v == null ? "(development build)" : v)};
    }
  }
}
