package dev.streamtools.bench.impl;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The benchmark JVM's CPU time, all its threads (the clients' I/O threads and the garbage collector's included)
 * but the JIT compilers': what a side's rounds cost the machine's cores apart from the broker. The sides take
 * turns, so the CPU time that passes during a side's slice is that side's.
 *
 * <p>The process time comes from {@code OperatingSystemMXBean.getProcessCpuTime()} (it keeps the time of threads
 * that ended, as a consumer loop's poll thread closed with its round; clock-tick resolution, 10 ms on Linux). The
 * compilers' comes from each compiler thread's {@code /proc/self/task/<tid>/schedstat} (nanoseconds): on two
 * cores a C2 thread compiled for seconds of some rounds, for whichever code had become hot, of either side. Where
 * {@code /proc} is missing the compilers' time stays in.
 *
 * <p>Not thread safe: one harness reads it between the slices it runs.
 */
public final class CpuClock {

  private static final Path TASKS = Path.of("/proc/self/task");
  private static final Long NOT_A_COMPILER = -1L;

  /** Null where the JVM does not report its process CPU time. */
  private final com.sun.management.OperatingSystemMXBean os;
  /** By thread id: a compiler thread's CPU time when last read, or {@link #NOT_A_COMPILER} (a name is read once). */
  private final Map<String, Long> seen = new HashMap<>();
  private long compilerTotal;

  /** A clock of this JVM. */
  public CpuClock() {
    this.os = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean o
      && o.getProcessCpuTime() >= 0 ? o : null;
  }

  /** @return whether this JVM reports its process CPU time */
  public boolean available() {
    return os != null;
  }

  /**
   * @return the JVM's CPU time so far without the JIT compilers', in nanoseconds, or -1 where the JVM does not
   *     report its CPU time
   */
  public long nanos() {
    if (os == null) {
      return -1;
    }
    // Each interval between two readings holds one reading's own work, whatever the order; with a thread's name
    // read once, that is a directory listing and a read per compiler thread.
    long compilers = compilerNanos();
    return os.getProcessCpuTime() - compilers;
  }

  /**
   * @return the compiler threads' CPU time counted so far: each thread's growth since it was last read, so a
   *     compiler thread that ends (their number follows the compile queue) takes none of its time back out
   */
  private long compilerNanos() {
    Set<String> live = new HashSet<>();
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
      for (Path task : tasks) {
        String tid = task.getFileName().toString();
        live.add(tid);
        Long before = seen.computeIfAbsent(tid, t -> isCompiler(task) ? 0L : NOT_A_COMPILER);
        if (before.equals(NOT_A_COMPILER)) {
          continue;
        }
        long onCpu = onCpuNanos(task);
        if (onCpu >= 0) {
          seen.put(tid, onCpu);
          compilerTotal += Math.max(0, onCpu - before);
        }
      }
    } catch (IOException | RuntimeException noProc) {
      // not Linux: the compilers' time stays in the process's
    }
    seen.keySet().retainAll(live);
    return compilerTotal;
  }

  private static boolean isCompiler(Path task) {
    try {
      String name = Files.readString(task.resolve("comm"));
      return name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre");
    } catch (IOException | RuntimeException gone) {
      return false; // the thread ended between the listing and the read
    }
  }

  /** @return the thread's time on a CPU in nanoseconds, or -1 if it ended */
  private static long onCpuNanos(Path task) {
    try {
      String schedstat = Files.readString(task.resolve("schedstat"));
      return Long.parseLong(schedstat.substring(0, schedstat.indexOf(' ')));
    } catch (IOException | RuntimeException gone) {
      return -1;
    }
  }
}
