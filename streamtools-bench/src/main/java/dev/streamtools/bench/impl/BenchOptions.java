package dev.streamtools.bench.impl;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Command-line options of the benchmark; every one has a default for the full run. */
public final class BenchOptions {

  /** Measured rounds per side, after warm-up. */
  public int rounds = 5;
  /** Warm-up rounds per side, not counted: at least this many. */
  public int warmup = 2;
  /**
   * Warm-up rounds per side at most, never fewer than {@link #warmup}: after {@link #warmup}, another pair runs while the JIT compiled for more than
   * {@link #JIT_QUIET_SHARE} of the last pair's time, so measured rounds do not share the CPUs with the compiler.
   */
  public int warmupMax = 6;
  /** The share of a warm-up pair's wall time the JIT may spend compiling for the pair to count as steady. */
  public static final double JIT_QUIET_SHARE = 0.02;
  /** Length of a timed round. */
  public double roundSeconds = 3;
  /**
   * Slices each round of a sliced comparison is cut into, alternating with the other side's slices (see
   * {@link Comparison#inSlices()}).
   */
  public int slices = 6;
  /** Comparison names or prefixes to run; empty = all. */
  public List<String> only = new ArrayList<>();
  /** Comparison names or prefixes to leave out. */
  public List<String> skip = new ArrayList<>();
  /** How long the stall scenarios hold the handler. */
  public double stallSeconds = 60;
  /** How long the two producers load the Kafka broker, in turns, before the first Kafka comparison; 0: not at all. */
  public double kafkaWarmupSeconds = 30;
  /** Records in the Kafka backlog each consume round reads. */
  public int kafkaBacklog = 2_000_000;
  /** Messages in the RabbitMQ backlog each consume round reads. */
  public int rmqBacklog = 50_000;
  /** Backlog (messages) of the stall scenarios. */
  public int stallBacklog = 100_000;
  /** Concurrent wrk connections. */
  public int wrkConnections = 32;
  /** The wrk executable. */
  public String wrk = "wrk";
  /** Which sides run: both (the comparison), or only raw / streamtools (for profiling one side). */
  public String side = "both";
  /** Where the markdown table of the run is written, or {@code null}. */
  public Path out;

  /**
   * @param args command-line arguments
   * @return the options
   * @throws IllegalArgumentException on an unknown or malformed option
   */
  public static BenchOptions parse(String... args) {
    BenchOptions o = new BenchOptions();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("-h") || a.equals("--help")) {
        throw new IllegalArgumentException(usage());
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("option " + a + " needs a value\n" + usage());
      }
      String v = args[++i];
      switch (a) {
        case "--rounds": o.rounds = positive(a, Integer.parseInt(v)); break;
        case "--warmup": o.warmup = Integer.parseInt(v); break;
        case "--warmup-max": o.warmupMax = Integer.parseInt(v); break;
        case "--round-seconds": o.roundSeconds = Double.parseDouble(v); break;
        case "--slices": o.slices = positive(a, Integer.parseInt(v)); break;
        case "--only": o.only = split(v); break;
        case "--skip": o.skip = split(v); break;
        case "--stall-seconds": o.stallSeconds = Double.parseDouble(v); break;
        case "--kafka-warmup": o.kafkaWarmupSeconds = Double.parseDouble(v); break;
        case "--kafka-backlog": o.kafkaBacklog = positive(a, Integer.parseInt(v)); break;
        case "--rmq-backlog": o.rmqBacklog = positive(a, Integer.parseInt(v)); break;
        case "--stall-backlog": o.stallBacklog = positive(a, Integer.parseInt(v)); break;
        case "--wrk-connections": o.wrkConnections = positive(a, Integer.parseInt(v)); break;
        case "--wrk": o.wrk = v; break;
        case "--out": o.out = Path.of(v); break;
        case "--side":
          if (!v.equals("both") && !v.equals("raw") && !v.equals("streamtools")) {
            throw new IllegalArgumentException("--side must be both, raw or streamtools, was " + v);
          }
          o.side = v;
          break;
        default: throw new IllegalArgumentException("unknown option " + a + "\n" + usage());
      }
    }
    o.warmupMax = Math.max(o.warmup, o.warmupMax); // --warmup 8 alone means 8, not 6
    return o;
  }

  /** @return the options' description */
  public static String usage() {
    return String.join("\n",
      "options (defaults in brackets):",
      "  --rounds N           measured rounds per side, alternating raw/streamtools [5]; the RabbitMQ",
      "                       backlog comparisons run at least 11 (their rounds are bimodal)",
      "  --warmup N           warm-up rounds per side at least [2]",
      "  --warmup-max N       warm-up rounds per side at most: more run while the JIT compiled for over 2% of",
      "                       the last warm-up pair's time [6]",
      "  --round-seconds S    length of a timed round [3]",
      "  --slices N           the timed load comparisons (sends, round trips) cut each round into N slices and",
      "                       alternate the two sides every slice; 1: whole rounds [6]",
      "  --only a,b           run only comparisons whose name starts with one of these (memory, http, kafka,",
      "                       rabbitmq, stall, or full names such as kafka.produce.100B)",
      "  --skip a,b           leave these out",
      "  --stall-seconds S    how long the stall scenarios hold the handler [60]",
      "  --kafka-warmup S     load the Kafka broker this long with the raw and streamtools producers, in turns,",
      "                       before the first Kafka comparison, as a broker just started runs slower for its",
      "                       first minute and the JIT compiles for what runs first [30]",
      "  --kafka-backlog N    records per Kafka consume round [2000000]",
      "  --rmq-backlog N      messages per RabbitMQ consume round [50000]",
      "  --stall-backlog N    backlog of the stall scenarios [100000]",
      "  --wrk-connections N  wrk connections [32]",
      "  --wrk PATH           wrk executable [wrk]",
      "  --side S             both | raw | streamtools: run one side only, to profile it [both]",
      "  --out FILE           also write the results as markdown to FILE");
  }

  /**
   * @param name a comparison name
   * @return whether this run includes it
   */
  public boolean selected(String name) {
    return (only.isEmpty() || only.stream().anyMatch(p -> matches(name, p)))
      && skip.stream().noneMatch(p -> matches(name, p));
  }

  private static boolean matches(String name, String prefix) {
    String n = name.toLowerCase(Locale.ROOT);
    String p = prefix.toLowerCase(Locale.ROOT);
    return n.equals(p) || n.startsWith(p + ".");
  }

  /** @return the round length in nanoseconds */
  public long roundNanos() {
    return (long) (roundSeconds * 1e9);
  }

  private static List<String> split(String v) {
    List<String> l = new ArrayList<>();
    for (String s : v.split(",")) {
      if (!s.isBlank()) {
        l.add(s.trim());
      }
    }
    return l;
  }

  private static int positive(String name, int v) {
    if (v < 1) {
      throw new IllegalArgumentException(name + " must be at least 1, was " + v);
    }
    return v;
  }
}
