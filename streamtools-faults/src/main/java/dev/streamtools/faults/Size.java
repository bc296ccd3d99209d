package dev.streamtools.faults;

import java.time.Duration;

/**
 * How big a run is. {@code reduced} is what {@code .ci/run} runs on every build; {@code full} is what
 * {@code scripts/faults.sh} runs and {@code RELIABILITY.md} records. Chosen with the system property
 * {@code faults.size} (or the environment variable {@code FAULTS_SIZE}).
 *
 * @param name reduced or full
 * @param messages messages of scenarios 1, 2, 4 and 5 (per queue)
 * @param rate their send rate, messages per second (scenario 5 is unpaced)
 * @param restartMessages messages of scenario 3
 * @param restartPublishers concurrent publishers of scenario 3
 * @param restartRate send rate of scenario 3, so the stream spans both restarts
 * @param slowPhase how long the handler is slow in scenario 6
 * @param slowBacklog messages waiting when scenario 6 starts
 * @param patience the longest wait for a condition (every message handled, a process ready ...)
 */
public record Size(String name, int messages, int rate, int restartMessages, int restartPublishers, int restartRate,
                   Duration slowPhase, int slowBacklog, Duration patience) {

  /** The size of the CI run. */
  public static final Size REDUCED = new Size("reduced", 1_000, 250, 1_000, 100, 100, Duration.ofSeconds(10), 4_000,
    Duration.ofSeconds(90));
  /** The size RELIABILITY.md records. */
  public static final Size FULL = new Size("full", 10_000, 500, 10_000, 100, 400, Duration.ofSeconds(60), 16_000,
    Duration.ofSeconds(240));

  /**
   * @return the size named by {@code faults.size} / {@code FAULTS_SIZE}, reduced by default, with the slow phase
   *     of {@code faults.slowSeconds} / {@code FAULTS_SLOW_SECONDS} if set
   */
  public static Size fromEnvironment() {
    Size s = of(setting("faults.size", "FAULTS_SIZE", "reduced"));
    String slow = setting("faults.slowSeconds", "FAULTS_SLOW_SECONDS", null);
    return slow == null ? s : s.withSlowPhase(Duration.ofSeconds(Long.parseLong(slow)));
  }

  /**
   * @param slow the slow phase of scenario 6
   * @return this size with it, and a backlog still larger than what the slow handler gets through meanwhile
   *     (16 in flight, 100 ms each: 160 messages a second, with half again as many waiting)
   */
  public Size withSlowPhase(Duration slow) {
    int backlog = (int) Math.max(slowBacklog, Math.min(1_000_000L, slow.toSeconds() * 240));
    return new Size(name, messages, rate, restartMessages, restartPublishers, restartRate, slow, backlog,
      patience.plus(slow));
  }

  private static String setting(String property, String env, String def) {
    String v = System.getProperty(property);
    if (v == null || v.isBlank()) {
      v = System.getenv(env);
    }
    return v == null || v.isBlank() ? def : v.trim();
  }

  /**
   * @param name reduced or full
   * @return the size
   */
  public static Size of(String name) {
    switch (name) {
      case "reduced": return REDUCED;
      case "full": return FULL;
      default: throw new IllegalArgumentException("faults.size must be reduced or full, was '" + name + "'");
    }
  }
}
