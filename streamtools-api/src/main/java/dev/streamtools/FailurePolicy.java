package dev.streamtools;

import java.time.Duration;
import java.util.Objects;

/**
 * What happens to a message whose handler fails, throws or times out: retried with exponential backoff
 * up to {@link #maxAttempts()} deliveries in all, then dead-lettered to {@link #deadLetterQueue()} with
 * the reason in its headers ({@link MessageHeaders#DEAD_LETTER_REASON} and the others). A message that
 * cannot be decoded is dead-lettered at once.
 *
 * <p>Immutable: setters return copies. Defaults: 3 attempts, backoff 200 ms doubling up to 30 s,
 * handler timeout 30 s, dead letters to {@code <queue>.dlq}.
 */
public final class FailurePolicy {

  /** The default policy. */
  public static final FailurePolicy DEFAULTS = new FailurePolicy();

  /** Suffix of the default dead-letter queue: {@code orders} dead-letters to {@code orders.dlq}. */
  public static final String DEAD_LETTER_SUFFIX = ".dlq";

  private int maxAttempts = 3;
  private Duration initialBackoff = Duration.ofMillis(200);
  private double backoffMultiplier = 2.0;
  private Duration maxBackoff = Duration.ofSeconds(30);
  private Duration handlerTimeout = Duration.ofSeconds(30);
  private String deadLetterQueue;

  private FailurePolicy() {
  }

  private FailurePolicy copy() {
    FailurePolicy c = new FailurePolicy();
    c.maxAttempts = maxAttempts;
    c.initialBackoff = initialBackoff;
    c.backoffMultiplier = backoffMultiplier;
    c.maxBackoff = maxBackoff;
    c.handlerTimeout = handlerTimeout;
    c.deadLetterQueue = deadLetterQueue;
    return c;
  }

  /** @return the default policy */
  public static FailurePolicy defaults() {
    return DEFAULTS;
  }

  /**
   * @param maxAttempts deliveries in all before dead-lettering, at least 1 (1 = no retry)
   * @return a copy with the setting
   */
  public FailurePolicy maxAttempts(int maxAttempts) {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1, was " + maxAttempts);
    }
    FailurePolicy c = copy();
    c.maxAttempts = maxAttempts;
    return c;
  }

  /**
   * @param initial delay before the second attempt
   * @param multiplier factor applied for each further attempt, at least 1
   * @param max the longest delay
   * @return a copy with the setting
   */
  public FailurePolicy backoff(Duration initial, double multiplier, Duration max) {
    requireNonNegative(initial, "initial backoff");
    requireNonNegative(max, "max backoff");
    if (multiplier < 1.0) {
      throw new IllegalArgumentException("backoff multiplier must be at least 1, was " + multiplier);
    }
    FailurePolicy c = copy();
    c.initialBackoff = initial;
    c.backoffMultiplier = multiplier;
    c.maxBackoff = max;
    return c;
  }

  /**
   * @param handlerTimeout how long a handler may take before it counts as failed; zero disables it
   * @return a copy with the setting
   */
  public FailurePolicy handlerTimeout(Duration handlerTimeout) {
    requireNonNegative(handlerTimeout, "handler timeout");
    FailurePolicy c = copy();
    c.handlerTimeout = handlerTimeout;
    return c;
  }

  /**
   * @param deadLetterQueue where exhausted and undecodable messages go; {@code null} for {@code <queue>.dlq}
   * @return a copy with the setting
   */
  public FailurePolicy deadLetterQueue(String deadLetterQueue) {
    FailurePolicy c = copy();
    c.deadLetterQueue = deadLetterQueue;
    return c;
  }

  /** @return deliveries in all before dead-lettering */
  public int maxAttempts() {
    return maxAttempts;
  }

  /** @return the delay before the second attempt */
  public Duration initialBackoff() {
    return initialBackoff;
  }

  /** @return the factor applied per further attempt */
  public double backoffMultiplier() {
    return backoffMultiplier;
  }

  /** @return the longest delay between attempts */
  public Duration maxBackoff() {
    return maxBackoff;
  }

  /** @return the handler timeout; zero means none */
  public Duration handlerTimeout() {
    return handlerTimeout;
  }

  /** @return the configured dead-letter queue, or {@code null} for {@code <queue>.dlq} */
  public String deadLetterQueue() {
    return deadLetterQueue;
  }

  /**
   * @param queue the queue whose messages fail
   * @return the dead-letter queue for it
   */
  public String deadLetterQueueFor(String queue) {
    return deadLetterQueue != null ? deadLetterQueue : queue + DEAD_LETTER_SUFFIX;
  }

  /**
   * @param failedAttempt the attempt that just failed, 1-based
   * @return how long to wait before the next attempt
   */
  public Duration backoffAfter(int failedAttempt) {
    double millis = initialBackoff.toMillis() * Math.pow(backoffMultiplier, Math.max(0, failedAttempt - 1));
    return Duration.ofMillis((long) Math.min(millis, maxBackoff.toMillis()));
  }

  private static void requireNonNegative(Duration d, String what) {
    Objects.requireNonNull(d, what);
    if (d.isNegative()) {
      throw new IllegalArgumentException(what + " must not be negative, was " + d);
    }
  }

  @Override
  public String toString() {
    return "FailurePolicy{maxAttempts=" + maxAttempts + ", backoff=" + initialBackoff.toMillis() + "ms x"
      + backoffMultiplier + " up to " + maxBackoff.toMillis() + "ms, handlerTimeout=" + handlerTimeout.toMillis()
      + "ms, deadLetterQueue=" + (deadLetterQueue == null ? "<queue>.dlq" : deadLetterQueue) + "}";
  }
}
