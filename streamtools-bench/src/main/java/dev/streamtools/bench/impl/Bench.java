package dev.streamtools.bench.impl;

import io.vertx.core.Vertx;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** One benchmark run: every selected comparison, then the stall scenarios, then the report. */
public final class Bench {

  private final BenchOptions options;
  private final PrintStream progress;
  // whether the two producers loaded the Kafka broker before the run's first Kafka comparison, for the report
  private boolean kafkaBrokerWarmedUp;

  /**
   * @param options the run's options
   * @param progress where progress goes
   */
  public Bench(BenchOptions options, PrintStream progress) {
    this.options = options;
    this.progress = progress;
  }

  /** The results of a run. */
  public static final class Outcome {
    private final List<ComparisonResult> comparisons;
    private final List<StallResult> stalls;
    private final String markdown;

    Outcome(List<ComparisonResult> comparisons, List<StallResult> stalls, String markdown) {
      this.comparisons = comparisons;
      this.stalls = stalls;
      this.markdown = markdown;
    }

    /** @return the comparisons that were selected */
    public List<ComparisonResult> comparisons() {
      return comparisons;
    }

    /** @return the stall scenarios that were selected */
    public List<StallResult> stalls() {
      return stalls;
    }

    /** @return the report */
    public String markdown() {
      return markdown;
    }

    /** @return whether every selected comparison ran on both sides without failed operations */
    public boolean allRan() {
      return comparisons.stream().allMatch(c -> c.complete() && c.errors() == 0);
    }
  }

  /**
   * @return where the broker keeps its data, when scripts/bench.sh had scripts/brokers.sh start it in a directory of
   *     its own ({@code -Dbench.kafka.dataDir}), or "" for a broker that was already running
   */
  private static String kafkaDataDir() {
    String dir = System.getProperty("bench.kafka.dataDir", "");
    Path path = Path.of(dir);
    if (dir.isEmpty() || !Files.exists(path.resolve("meta.properties"))) {
      return "";
    }
    try {
      return "; its data on " + Files.getFileStore(path).type() + ", " + dir;
    } catch (IOException e) {
      return "; its data in " + dir;
    }
  }

  /** @return the outcome; comparisons that cannot run are reported in it */
  public Outcome run() {
    String loadBefore = loadAverage();
    long t0 = System.nanoTime();
    OffsetDateTime started = OffsetDateTime.now().truncatedTo(ChronoUnit.SECONDS);
    Vertx vertx = Vertx.vertx();
    List<ComparisonResult> results = new ArrayList<>();
    List<StallResult> stalls = new ArrayList<>();
    try {
      List<Comparison> all = new ArrayList<>();
      all.addAll(MemoryBench.comparisons(vertx, options));
      all.addAll(HttpBench.comparisons(vertx, options));
      all.addAll(KafkaBench.comparisons(vertx, options));
      all.addAll(RabbitBench.comparisons(vertx, options));
      Harness harness = new Harness(options, progress);
      boolean kafkaWarmUpTried = false;
      for (Comparison c : all) {
        if (options.selected(c.name())) {
          if (!kafkaWarmUpTried && c.name().startsWith("kafka")) {
            kafkaWarmUpTried = true;
            kafkaBrokerWarmedUp = KafkaBench.warmBroker(vertx, options, progress);
          }
          results.add(harness.run(c));
          KafkaBench.deleteTopics(progress, false); // the comparison's own; nothing to do when it made none
        }
      }
      Stalls s = new Stalls(vertx, options, progress);
      for (Map.Entry<String, Stalls.Scenario> e : s.scenarios().entrySet()) {
        if (options.selected(e.getKey())) {
          stalls.add(s.run(e.getKey(), e.getValue()));
        }
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().join();
      KafkaBench.deleteTopics(progress, true);
    }
    String markdown = markdown(results, stalls, started, loadBefore, loadAverage(),
      Duration.ofNanos(System.nanoTime() - t0));
    if (options.out != null) {
      try {
        Files.createDirectories(options.out.toAbsolutePath().getParent());
        Files.writeString(options.out, markdown, StandardCharsets.UTF_8);
      } catch (IOException e) {
        progress.println("cannot write " + options.out + ": " + e);
      }
    }
    return new Outcome(results, stalls, markdown);
  }

  private String slicedRounds(List<ComparisonResult> results) {
    if (options.slices < 2 || results.stream().noneMatch(r -> r.comparison.sliced())) {
      return "";
    }
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, " (the sends and round trips in %d slices of "
      + "%.2f s", options.slices, options.roundSeconds / options.slices));
    for (ComparisonResult r : results) {
      int n = r.comparison.slices(options.slices, options.roundNanos());
      if (r.comparison.sliced() && n != options.slices) {
        sb.append(String.format(Locale.ROOT, ", %s's in %d of %.2f s", r.comparison.name(), n,
          options.roundSeconds / n));
      }
    }
    return sb.append(", the sides alternating every slice)").toString();
  }

  private String markdown(List<ComparisonResult> results, List<StallResult> stalls, OffsetDateTime started,
                          String loadBefore, String loadAfter, Duration took) {
    StringBuilder sb = new StringBuilder();
    sb.append("Run of ").append(started).append(", took ").append(took.toSeconds()).append(" s; ")
      .append(options.warmup).append(" warm-up (up to ").append(options.warmupMax)
      .append(" while the JIT compiled for over ").append(Math.round(BenchOptions.JIT_QUIET_SHARE * 100))
      .append("% of a warm-up pair's time; each comparison's below) + ").append(options.rounds)
      .append(" measured rounds per side")
      .append(moreRounds(results)).append(", alternating, ").append(options.roundSeconds)
      .append(" s per timed round").append(slicedRounds(results)).append(".\n")
      .append("Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" cores, ")
      .append(System.getProperty("java.vm.name")).append(' ').append(System.getProperty("java.runtime.version"))
      .append(", ").append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.version"))
      .append(", max heap ").append(Runtime.getRuntime().maxMemory() >> 20).append(" MB")
      .append(", JVM flags ").append(ManagementFactory.getRuntimeMXBean().getInputArguments())
      .append(".\nLoad average (1/5/15 min) before: ").append(loadBefore).append("; after: ").append(loadAfter)
      .append(".\n");
    String brokers = RabbitBench.serverVersion();
    if (brokers != null) {
      sb.append("RabbitMQ server ").append(brokers).append(". ");
    }
    String kafka = System.getProperty("bench.kafka.version");
    if (kafka != null) {
      sb.append("Kafka broker ").append(kafka).append(" (single node KRaft, scripts/brokers.sh")
        .append(kafkaDataDir())
        .append(kafkaBrokerWarmedUp ? String.format(Locale.ROOT, "; loaded %.0f s by the raw and streamtools "
          + "producers in turns before its first comparison", options.kafkaWarmupSeconds) : "")
        .append("). ");
    }
    sb.append("\n\nThroughput is the median over measured rounds; ratio = streamtools/raw per pair of rounds "
      + "(median and worst pair); latencies are the median over rounds of each round's p50 and p99; CPU us/op is the "
      + "median over rounds of this JVM's CPU time during a side's rounds (every thread but the JIT compilers': the "
      + "clients' I/O threads and GC included, the broker and wrk not) per operation.\n\n");
    if (!results.isEmpty()) {
      sb.append(Report.comparisons(results)).append('\n');
      sb.append(Report.settings(results)).append('\n');
    }
    if (!stalls.isEmpty()) {
      sb.append(Report.stalls(stalls)).append('\n');
    }
    return sb.toString();
  }

  /** @return the comparisons that ran more measured rounds than {@code --rounds}, for the report's first line */
  private String moreRounds(List<ComparisonResult> results) {
    Map<Integer, List<String>> names = new TreeMap<>();
    for (ComparisonResult r : results) {
      int rounds = r.comparison().rounds(options.rounds);
      if (rounds > options.rounds) {
        names.computeIfAbsent(rounds, k -> new ArrayList<>()).add(r.comparison().name());
      }
    }
    StringBuilder sb = new StringBuilder();
    names.forEach((rounds, which) -> sb.append(sb.length() == 0 ? " (" : "; ").append(rounds).append(" for ")
      .append(String.join(", ", which)));
    return sb.length() == 0 ? "" : sb.append(")").toString();
  }

  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " / " + f[1] + " / " + f[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }
}
