package dev.streamtools;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Per-send, per-protocol flags. Immutable: every setter returns a copy, so a configured instance can
 * be kept in a constant and shared. A transport reads its own flags and ignores the others.
 *
 * <table>
 *   <caption>Flags by transport</caption>
 *   <tr><th>transport</th><th>flags</th></tr>
 *   <tr><td>http</td><td>{@link #method(String)} (POST default, or GET), {@link #endpoint(String)} (default
 *   {@code http://HTTP_HOST:HTTP_PORT/<queue>}), {@link #headersTag(String)} (content type tag, JSON default)</td></tr>
 *   <tr><td>kafka</td><td>{@link #key(String)}, {@link #partition(Integer)}, {@link #headers(Map)}</td></tr>
 *   <tr><td>rabbitmq</td><td>{@link #exchange(String)}, {@link #routingKey(String)}, {@link #priority(Integer)},
 *   {@link #ttl(Duration)}, {@link #headers(Map)}</td></tr>
 *   <tr><td>all</td><td>{@link #timeout(Duration)}: how long a send may wait for the transport</td></tr>
 * </table>
 */
public final class SendOptions {

  /** No flags: every transport's defaults. */
  public static final SendOptions DEFAULTS = new SendOptions();

  private String method;
  private String endpoint;
  private String headersTag;
  private String key;
  private Integer partition;
  private Map<String, String> headers = Map.of();
  private String exchange;
  private String routingKey;
  private Integer priority;
  private Duration ttl;
  private Duration timeout;

  private SendOptions() {
  }

  private SendOptions copy() {
    SendOptions c = new SendOptions();
    c.method = method;
    c.endpoint = endpoint;
    c.headersTag = headersTag;
    c.key = key;
    c.partition = partition;
    c.headers = headers;
    c.exchange = exchange;
    c.routingKey = routingKey;
    c.priority = priority;
    c.ttl = ttl;
    c.timeout = timeout;
    return c;
  }

  /** @return options with no flag set; the same as {@link #DEFAULTS} */
  public static SendOptions defaults() {
    return DEFAULTS;
  }

  /**
   * @param method HTTP method, {@code POST} (default) or {@code GET}
   * @return a copy with the flag set
   */
  public SendOptions method(String method) {
    SendOptions c = copy();
    c.method = method;
    return c;
  }

  /**
   * @param endpoint the full HTTP URL to send to, overriding {@code http://HTTP_HOST:HTTP_PORT/<queue>}
   * @return a copy with the flag set
   */
  public SendOptions endpoint(String endpoint) {
    SendOptions c = copy();
    c.endpoint = endpoint;
    return c;
  }

  /**
   * @param headersTag HTTP content type tag: {@code JSON}, {@code TEXT}, {@code XML}, {@code BINARY},
   *     or a literal content type such as {@code application/cbor}
   * @return a copy with the flag set
   */
  public SendOptions headersTag(String headersTag) {
    SendOptions c = copy();
    c.headersTag = headersTag;
    return c;
  }

  /**
   * @param key the Kafka record key, overriding {@link Message#key()}
   * @return a copy with the flag set
   */
  public SendOptions key(String key) {
    SendOptions c = copy();
    c.key = key;
    return c;
  }

  /**
   * @param partition the Kafka partition, or {@code null} to let the partitioner choose
   * @return a copy with the flag set
   */
  public SendOptions partition(Integer partition) {
    SendOptions c = copy();
    c.partition = partition;
    return c;
  }

  /**
   * @param headers extra protocol headers, added to the message's own
   * @return a copy with the flag set
   */
  public SendOptions headers(Map<String, String> headers) {
    SendOptions c = copy();
    c.headers = Map.copyOf(new LinkedHashMap<>(Objects.requireNonNull(headers, "headers")));
    return c;
  }

  /**
   * @param exchange the RabbitMQ exchange to publish to (default: the default exchange, routed by queue name)
   * @return a copy with the flag set
   */
  public SendOptions exchange(String exchange) {
    SendOptions c = copy();
    c.exchange = exchange;
    return c;
  }

  /**
   * @param routingKey the RabbitMQ routing key (default: the queue name)
   * @return a copy with the flag set
   */
  public SendOptions routingKey(String routingKey) {
    SendOptions c = copy();
    c.routingKey = routingKey;
    return c;
  }

  /**
   * @param priority the AMQP priority, 0-9, or {@code null}
   * @return a copy with the flag set
   */
  public SendOptions priority(Integer priority) {
    SendOptions c = copy();
    c.priority = priority;
    return c;
  }

  /**
   * @param ttl the AMQP per-message expiration, or {@code null}
   * @return a copy with the flag set
   */
  public SendOptions ttl(Duration ttl) {
    SendOptions c = copy();
    c.ttl = ttl;
    return c;
  }

  /**
   * @param timeout how long the send may wait for the transport before failing, or {@code null} for the
   *     transport's default
   * @return a copy with the flag set
   */
  public SendOptions timeout(Duration timeout) {
    SendOptions c = copy();
    c.timeout = timeout;
    return c;
  }

  /** @return the HTTP method, or {@code null} for POST */
  public String method() {
    return method;
  }

  /** @return the HTTP endpoint override, or {@code null} */
  public String endpoint() {
    return endpoint;
  }

  /** @return the HTTP content type tag, or {@code null} for the message's own content type */
  public String headersTag() {
    return headersTag;
  }

  /** @return the Kafka key override, or {@code null} */
  public String key() {
    return key;
  }

  /** @return the Kafka partition, or {@code null} */
  public Integer partition() {
    return partition;
  }

  /** @return extra headers, never {@code null} */
  public Map<String, String> headers() {
    return headers;
  }

  /** @return the RabbitMQ exchange, or {@code null} */
  public String exchange() {
    return exchange;
  }

  /** @return the RabbitMQ routing key, or {@code null} */
  public String routingKey() {
    return routingKey;
  }

  /** @return the AMQP priority, or {@code null} */
  public Integer priority() {
    return priority;
  }

  /** @return the AMQP expiration, or {@code null} */
  public Duration ttl() {
    return ttl;
  }

  /** @return the send timeout, or {@code null} for the transport's default */
  public Duration timeout() {
    return timeout;
  }
}
