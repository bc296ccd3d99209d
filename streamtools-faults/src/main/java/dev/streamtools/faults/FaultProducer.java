package dev.streamtools.faults;

import dev.streamtools.Producer;
import dev.streamtools.Transports;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * The producer side of the fault harness, as its own OS process: {@link Publishers} over one streamtools
 * {@link Producer}, every outcome recorded ({@code C} confirmed, {@code X} failed with its error), then
 * {@code DONE} with the counts. Exit status 0 when every send has an outcome, whatever it is: failed sends are
 * data, counted by the driver, not an error of this program.
 */
@Command(name = "fault-producer", mixinStandardHelpOptions = true, sortOptions = false,
  description = "Sends N numbered messages from M concurrent publishers and records each outcome.")
public final class FaultProducer implements Callable<Integer> {

  private static final Logger LOG = LoggerFactory.getLogger(FaultProducer.class);

  @Option(names = "--transport", required = true)
  String transport;

  @Option(names = "--queue", required = true)
  String queue;

  @Option(names = "--events", required = true)
  Path eventsFile;

  @Option(names = "--count", required = true)
  long count;

  @Option(names = "--publishers", defaultValue = "10")
  int publishers;

  @Option(names = "--keys", defaultValue = "10")
  int keys;

  @Option(names = "--rate", defaultValue = "0", description = "Messages per second in all; 0: unpaced")
  double rate;

  @Option(names = "--prefix", defaultValue = "m", description = "Message id prefix")
  String prefix;

  @Option(names = "--pad", defaultValue = "0", description = "Body padding in bytes")
  int pad;

  @Option(names = "--pause-after-failure-ms", defaultValue = "0")
  long pauseAfterFailure;

  @Option(names = "--config", description = "A transport setting KEY=VALUE (repeatable)")
  Map<String, String> config = new LinkedHashMap<>();

  private FaultProducer() {
  }

  /**
   * @param args see {@code --help}
   */
  public static void main(String[] args) {
    Logging.configure();
    System.exit(new CommandLine(new FaultProducer()).setOverwrittenOptionsAllowed(true).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    JsonObject settings = new JsonObject();
    config.forEach(settings::put);
    Vertx vertx = Vertx.vertx();
    try (EventLog events = new EventLog(eventsFile)) {
      Producer producer = Transports.PRODUCERS.get(transport).create(vertx, queue, settings);
      long start = System.nanoTime();
      try {
        producer.init().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      } catch (Exception e) {
        // the sends will say what is wrong, one by one: nothing is skipped
        LOG.warn("producer init failed: {}", String.valueOf(e.getCause() != null ? e.getCause() : e));
      }
      events.write("START", new JsonObject().put("pid", ProcessHandle.current().pid()));
      Publishers p = new Publishers(vertx, producer, events, prefix, count, publishers, keys, rate, pad,
        pauseAfterFailure);
      p.run().toCompletionStage().toCompletableFuture().get();
      producer.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      events.write("DONE", new JsonObject().put("confirmed", p.confirmed()).put("failed", p.failed()).put("ms", ms));
      LOG.info("producer done in {} ms: {} confirmed, {} failed", ms, p.confirmed(), p.failed());
      return 0;
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS);
    }
  }
}
