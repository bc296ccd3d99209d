package dev.streamtools.bench.impl;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/** The clock counts the CPU time the benchmark's own threads use. */
class CpuClockTest {

  @Test
  void countsTheCpuTimeAThreadSpends() {
    CpuClock clock = new CpuClock();
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    assumeThat(clock.available() && threads.isCurrentThreadCpuTimeSupported()).as("a JVM that reports CPU time")
      .isTrue();
    long before = clock.nanos();
    long threadBefore = threads.getCurrentThreadCpuTime();
    long burnt = 0;
    long spin = 0;
    while (burnt < TimeUnit.MILLISECONDS.toNanos(300)) {
      for (int i = 0; i < 100_000; i++) {
        spin = spin * 31 + i;
      }
      burnt = threads.getCurrentThreadCpuTime() - threadBefore;
    }
    long counted = clock.nanos() - before;

    // the process clock moves in 10-ms ticks
    assertThat(counted).as("spin result %d", spin).isGreaterThanOrEqualTo(burnt - TimeUnit.MILLISECONDS.toNanos(20));
  }
}
