package dev.streamtools;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * How one route consumes: its in-flight bound, failure policy, drain timeout and, for HTTP, its method.
 * Immutable: setters return copies.
 *
 * <p>Defaults: {@code maxInFlight} 64, {@code maxPending} 1024, drain timeout 10 s, method POST,
 * {@link FailurePolicy#DEFAULTS}.
 */
public final class RouteOptions {

  /** The default options. */
  public static final RouteOptions DEFAULTS = new RouteOptions();

  private int maxInFlight = 64;
  private int maxPending = 1024;
  private Duration drainTimeout = Duration.ofSeconds(10);
  private String method = "POST";
  private FailurePolicy failurePolicy = FailurePolicy.DEFAULTS;

  private RouteOptions() {
  }

  private RouteOptions copy() {
    RouteOptions c = new RouteOptions();
    c.maxInFlight = maxInFlight;
    c.maxPending = maxPending;
    c.drainTimeout = drainTimeout;
    c.method = method;
    c.failurePolicy = failurePolicy;
    return c;
  }

  /** @return the default options */
  public static RouteOptions defaults() {
    return DEFAULTS;
  }

  /**
   * @param maxInFlight the most messages in this route's handler at once, per consumer loop; at least 1.
   *     1 keeps queue (Kafka: partition) order.
   * @return a copy with the setting
   */
  public RouteOptions maxInFlight(int maxInFlight) {
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight must be at least 1, was " + maxInFlight);
    }
    RouteOptions c = copy();
    c.maxInFlight = maxInFlight;
    return c;
  }

  /**
   * @param maxPending for push transports (HTTP, memory): how many received messages may wait for an
   *     in-flight slot before new ones are refused (HTTP 503, memory send failure); at least 0
   * @return a copy with the setting
   */
  public RouteOptions maxPending(int maxPending) {
    if (maxPending < 0) {
      throw new IllegalArgumentException("maxPending must not be negative, was " + maxPending);
    }
    RouteOptions c = copy();
    c.maxPending = maxPending;
    return c;
  }

  /**
   * @param drainTimeout how long {@link ConsumerLoop#close()} waits for in-flight messages to finish
   * @return a copy with the setting
   */
  public RouteOptions drainTimeout(Duration drainTimeout) {
    Objects.requireNonNull(drainTimeout, "drainTimeout");
    if (drainTimeout.isNegative()) {
      throw new IllegalArgumentException("drainTimeout must not be negative, was " + drainTimeout);
    }
    RouteOptions c = copy();
    c.drainTimeout = drainTimeout;
    return c;
  }

  /**
   * @param method the HTTP method this route answers, {@code POST} or {@code GET}
   * @return a copy with the setting
   */
  public RouteOptions method(String method) {
    String m = Objects.requireNonNull(method, "method").toUpperCase(Locale.ROOT);
    if (!m.equals("POST") && !m.equals("GET")) {
      throw new IllegalArgumentException("method must be POST or GET, was " + method);
    }
    RouteOptions c = copy();
    c.method = m;
    return c;
  }

  /**
   * @param failurePolicy what happens to messages whose handler fails
   * @return a copy with the setting
   */
  public RouteOptions failurePolicy(FailurePolicy failurePolicy) {
    RouteOptions c = copy();
    c.failurePolicy = Objects.requireNonNull(failurePolicy, "failurePolicy");
    return c;
  }

  /** @return the in-flight bound */
  public int maxInFlight() {
    return maxInFlight;
  }

  /** @return the bound on messages waiting for a slot (push transports) */
  public int maxPending() {
    return maxPending;
  }

  /** @return the drain timeout */
  public Duration drainTimeout() {
    return drainTimeout;
  }

  /** @return the HTTP method */
  public String method() {
    return method;
  }

  /** @return the failure policy */
  public FailurePolicy failurePolicy() {
    return failurePolicy;
  }

  @Override
  public String toString() {
    return "RouteOptions{maxInFlight=" + maxInFlight + ", maxPending=" + maxPending + ", drainTimeout="
      + drainTimeout.toMillis() + "ms, method=" + method + ", " + failurePolicy + "}";
  }
}
