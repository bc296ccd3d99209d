package dev.streamtools.bench.impl;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

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

  private final com.sun.management.OperatingSystemMXBean os;
  /** Each compiler thread's CPU time when last read, by thread id. */
  private final Map<String, Long> compilerSeen = new HashMap<>();
  private long compilerTotal;

  /** A clock of this JVM. */
  public CpuClock() {
    this.os = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean o
      ? o : null;
  }

  /** @return whether this JVM reports its process CPU time */
  public boolean available() {
    return os != null && os.getProcessCpuTime() >= 0;
  }

  /**
   * @return the JVM's CPU time so far without the JIT compilers', in nanoseconds, or -1 where the JVM does not
   *     report its CPU time
   */
  public long nanos() {
    if (!available()) {
      return -1;
    }
    long process = os.getProcessCpuTime();
    return process - compilerNanos();
  }

  /**
   * @return the compiler threads' CPU time counted so far: each thread's growth since it was last read, so a
   *     compiler thread that ends (their number follows the compile queue) takes none of its time back out
   */
  private long compilerNanos() {
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
      for (Path task : tasks) {
        String name;
        long onCpu;
        try {
          name = Files.readString(task.resolve("comm")).trim();
          if (!name.startsWith("C1 CompilerThre") && !name.startsWith("C2 CompilerThre")) {
            continue;
          }
          String schedstat = Files.readString(task.resolve("schedstat"));
          onCpu = Long.parseLong(schedstat.substring(0, schedstat.indexOf(' ')));
        } catch (IOException | RuntimeException gone) {
          continue; // the thread ended between the listing and the read
        }
        String tid = task.getFileName().toString();
        Long before = compilerSeen.put(tid, onCpu);
        compilerTotal += Math.max(0, onCpu - (before == null ? 0 : before));
      }
    } catch (IOException | RuntimeException noProc) {
      // not Linux: the compilers' time stays in the process's
    }
    return compilerTotal;
  }
}
