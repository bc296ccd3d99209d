package dev.streamtools.bench.impl;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Formats the results as the table printed at the end of a run and written to BENCHMARKS.md. */
public final class Report {

  private Report() {
  }

  /**
   * @param results comparison results
   * @return a markdown table, one row per comparison
   */
  public static String comparisons(List<ComparisonResult> results) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"comparison", "raw ops/s", "streamtools ops/s", "ratio median", "ratio worst",
      "raw p50 / p99", "streamtools p50 / p99", "p99 ratio", "CPU us/op raw / streamtools", "goal", "met"});
    for (ComparisonResult r : results) {
      Comparison c = r.comparison();
      String rawThr = r.raw().isEmpty() ? "-" : count(ComparisonResult.medianOf(r.raw(), RoundResult::throughput));
      String stThr = r.streamtools().isEmpty() ? "-"
        : count(ComparisonResult.medianOf(r.streamtools(), RoundResult::throughput));
      boolean both = r.complete();
      String met;
      if (!both) {
        met = "not run: " + (r.streamtoolsFailure() != null ? "streamtools side: " + r.streamtoolsFailure()
          : r.rawFailure() != null ? "raw side: " + r.rawFailure() : "no rounds");
      } else if (r.errors() > 0) {
        met = "NO (" + r.errors() + " failed operations)";
      } else if (!c.goal().exists()) {
        met = "-";
      } else {
        met = r.goalMet() ? "yes" : "NO";
      }
      rows.add(new String[] {
        c.name(), rawThr, stThr,
        both ? ratio(r.medianRatio()) : "-",
        both ? ratio(r.worstRatio()) : "-",
        c.latency() ? latencies(r.raw()) : "n/a",
        c.latency() ? latencies(r.streamtools()) : "n/a",
        c.latency() && both ? ratio(r.p99Ratio()) : "-",
        cpu(r.raw()) + " / " + cpu(r.streamtools()),
        c.goal().describe(), met});
    }
    return table(rows);
  }

  /**
   * @param results stall scenario results
   * @return a markdown table, one row per scenario
   */
  public static String stalls(List<StallResult> results) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"scenario", "settings", "heap before (MB)", "heap after (MB)", "max in handler",
      "maxInFlight", "buffered at end", "evidence", "ok"});
    for (StallResult s : results) {
      rows.add(new String[] {s.name(), s.settings(), fmt("%.1f", s.heapBeforeMb()), fmt("%.1f", s.heapAfterMb()),
        Integer.toString(s.maxInHandler()), Integer.toString(s.maxInFlight()),
        s.buffered() < 0 ? "n/a" : Long.toString(s.buffered()), s.notes(), s.ok() ? "yes" : "NO"});
    }
    return table(rows);
  }

  /**
   * @param results comparison results
   * @return one line per comparison: the settings both sides shared and what each side ran
   */
  public static String settings(List<ComparisonResult> results) {
    StringBuilder sb = new StringBuilder();
    for (ComparisonResult r : results) {
      sb.append("- `").append(r.comparison().name()).append("`: ").append(r.comparison().settings())
        .append(". Raw: ").append(r.rawLabel).append(". Streamtools: ").append(r.streamtoolsLabel)
        .append(". Warm-up rounds per side: ").append(r.warmupRounds()).append('.');
      if (r.clientCounters() != null) {
        sb.append(" The clients' counters over the measured rounds: ").append(r.clientCounters()).append('.');
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  /** @return the median over rounds of the benchmark JVM's CPU time per operation */
  private static String cpu(List<RoundResult> rounds) {
    return rounds.isEmpty() ? "-" : cpu(ComparisonResult.medianOf(rounds, RoundResult::cpuMicrosPerOp));
  }

  static String cpu(double microsPerOp) {
    if (Double.isNaN(microsPerOp)) {
      return "-";
    }
    return microsPerOp >= 100 ? fmt("%.0f", microsPerOp) : fmt("%.2f", microsPerOp);
  }

  private static String latencies(List<RoundResult> rounds) {
    if (rounds.isEmpty()) {
      return "-";
    }
    return micros(ComparisonResult.medianOf(rounds, RoundResult::p50Micros)) + " / "
      + micros(ComparisonResult.medianOf(rounds, RoundResult::p99Micros));
  }

  static String table(List<String[]> rows) {
    int cols = rows.get(0).length;
    int[] w = new int[cols];
    for (String[] row : rows) {
      for (int i = 0; i < cols; i++) {
        w[i] = Math.max(w[i], row[i].length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (int r = 0; r < rows.size(); r++) {
      sb.append('|');
      for (int i = 0; i < cols; i++) {
        sb.append(' ').append(pad(rows.get(r)[i], w[i])).append(" |");
      }
      sb.append('\n');
      if (r == 0) {
        sb.append('|');
        for (int i = 0; i < cols; i++) {
          sb.append('-').append("-".repeat(w[i])).append("-|");
        }
        sb.append('\n');
      }
    }
    return sb.toString();
  }

  private static String pad(String s, int w) {
    return s + " ".repeat(w - s.length());
  }

  static String count(double perSecond) {
    return fmt("%,.0f", perSecond);
  }

  static String ratio(double r) {
    return fmt("%.3f", r);
  }

  static String micros(double us) {
    if (Double.isNaN(us)) {
      return "-";
    }
    return us >= 10_000 ? fmt("%.1f ms", us / 1000) : fmt("%.0f us", us);
  }

  private static String fmt(String f, double v) {
    return String.format(Locale.ROOT, f, v);
  }
}
