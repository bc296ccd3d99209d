package dev.streamtools.bench;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Summarises the CPU samples ({@code jdk.ExecutionSample}) of a JFR recording of a benchmark run: the hottest
 * methods by self time, and the share of samples spent inside streamtools (the toolkit's own frames, not the
 * benchmark's) by method, inclusive. Not part of streamtools' API.
 *
 * <p>Usage: {@code JfrTop FILE.jfr [TOP]}
 */
public final class JfrTop {

  private JfrTop() {
  }

  /**
   * @param args the recording, and optionally how many rows per table (default 25)
   * @throws IOException if the recording cannot be read
   */
  public static void main(String[] args) throws IOException {
    if (args.length < 1) {
      System.err.println("usage: JfrTop FILE.jfr [TOP]");
      System.exit(2);
    }
    int top = args.length > 1 ? Integer.parseInt(args[1]) : 25;
    Map<String, Integer> self = new HashMap<>();
    Map<String, Integer> inclusive = new HashMap<>();
    Map<String, Integer> threads = new HashMap<>();
    int total = 0;
    int inStreamtools = 0;
    for (RecordedEvent e : RecordingFile.readAllEvents(Path.of(args[0]))) {
      if (!e.getEventType().getName().equals("jdk.ExecutionSample")) {
        continue;
      }
      RecordedStackTrace st = e.getStackTrace();
      if (st == null || st.getFrames().isEmpty()) {
        continue;
      }
      total++;
      List<RecordedFrame> frames = st.getFrames();
      self.merge(name(frames.get(0)), 1, Integer::sum);
      String thread = e.getThread("sampledThread") != null ? e.getThread("sampledThread").getJavaName() : "?";
      threads.merge(thread == null ? "?" : thread.replaceAll("-\\d+$", "-N"), 1, Integer::sum);
      Set<String> seen = new HashSet<>();
      for (RecordedFrame f : frames) {
        String n = name(f);
        if (isStreamtools(f) && seen.add(n)) {
          inclusive.merge(n, 1, Integer::sum);
        }
      }
      if (!seen.isEmpty()) {
        inStreamtools++;
      }
    }
    System.out.printf(Locale.ROOT, "%d execution samples; %.1f%% have a streamtools frame (dev.streamtools.*, "
      + "benchmark excluded) on the stack%n", total, pct(inStreamtools, total));
    print("threads", threads, total, top);
    print("hottest methods, self time", self, total, top);
    print("streamtools methods, inclusive time", inclusive, total, top);
  }

  private static boolean isStreamtools(RecordedFrame f) {
    String type = f.getMethod().getType().getName();
    return type.startsWith("dev.streamtools.") && !type.startsWith("dev.streamtools.bench.");
  }

  private static String name(RecordedFrame f) {
    String type = f.getMethod().getType().getName();
    return type.substring(type.lastIndexOf('.') + 1) + "." + f.getMethod().getName() + " (" + type + ")";
  }

  private static void print(String title, Map<String, Integer> counts, int total, int top) {
    System.out.println();
    System.out.println("-- " + title);
    counts.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).limit(top)
      .forEach(en -> System.out.printf(Locale.ROOT, "%6.1f%%  %6d  %s%n", pct(en.getValue(), total), en.getValue(),
        en.getKey()));
  }

  private static double pct(int n, int total) {
    return total == 0 ? 0 : 100.0 * n / total;
  }
}
