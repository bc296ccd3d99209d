package dev.streamtools.http;

/**
 * The settings of the HTTP transport ({@code http}, seed alias {@code HTTPHandler}), read by
 * {@link dev.streamtools.spi.Settings}: from the config object given to a factory first, then the
 * environment variable of the same name, then the default below.
 *
 * <table>
 *   <caption>HTTP settings</caption>
 *   <tr><th>name</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@value #HOST}</td><td>consumer: {@value #DEFAULT_BIND_HOST}; producer:
 *   {@value #DEFAULT_TARGET_HOST}</td><td>the address a consumer loop's server binds, and the host a producer
 *   sends to (a producer given {@code 0.0.0.0} or {@code ::} sends to {@value #DEFAULT_TARGET_HOST})</td></tr>
 *   <tr><td>{@value #PORT}</td><td>{@value #DEFAULT_PORT}</td><td>the port a consumer loop's server listens on and
 *   a producer sends to; consumer loops of one Vert.x instance on one port share one server</td></tr>
 *   <tr><td>{@value #BODY_LIMIT}</td><td>{@value #DEFAULT_BODY_LIMIT} (1 MiB)</td><td>the largest request body a
 *   consumer loop accepts; a larger one is answered 413</td></tr>
 *   <tr><td>{@value #SEND_TIMEOUT_MS}</td><td>{@value #DEFAULT_SEND_TIMEOUT_MS}</td><td>how long a producer waits
 *   for a connection and then for response data (covering the consumer's handler and its retries) before the
 *   send fails; {@link dev.streamtools.SendOptions#timeout(java.time.Duration)} overrides it per send</td></tr>
 *   <tr><td>{@value #MAX_CONNECTIONS}</td><td>{@value #DEFAULT_MAX_CONNECTIONS}</td><td>the most HTTP/1.1
 *   connections a producer keeps to one server, so the most of its sends in progress at once; further sends
 *   wait for a free connection</td></tr>
 * </table>
 *
 * <h2>On the wire</h2>
 * A message is one request to {@code http://HTTP_HOST:HTTP_PORT/<queue>} (or the
 * {@link dev.streamtools.SendOptions#endpoint(String) endpoint} flag); the body is the message's bytes,
 * unwrapped. Metadata travels in headers: {@code X-Message-Id}, {@code X-Correlation-Id},
 * {@code X-Message-Key}, {@code X-Message-Timestamp} (epoch ms), {@code Content-Type} (from the
 * {@link dev.streamtools.SendOptions#headersTag(String) headersTag} flag: {@code JSON} =
 * {@code application/json}, {@code TEXT} = {@code text/plain; charset=utf-8}, {@code XML} =
 * {@code application/xml}, {@code BINARY} = {@code application/octet-stream}, a value containing {@code /} as
 * is; without the flag the message's own content type, or {@code application/json}), and every message header
 * and {@link dev.streamtools.SendOptions#headers(java.util.Map) headers} flag as a plain HTTP header. A
 * consumer rebuilds the message from these; any other request header except the standard and hop-by-hop ones
 * ({@code Host}, {@code Content-Length}, {@code Connection}, {@code User-Agent}, {@code Accept*},
 * {@code Authorization}, {@code Cookie} ...) becomes a message header. A request without {@code X-Message-Id}
 * gets a generated id, so {@code curl -d '{"id":1}' http://host:9000/orders} is a valid producer.
 *
 * <h2>GET</h2>
 * A route with method GET reads its message from the query string: {@code ?id=42&tag=a&tag=b} becomes the
 * JSON object body {@code {"id":"42","tag":["a","b"]}} (values stay strings; Jackson converts them for typed
 * routes). A producer sending with method GET does the reverse: the body must be empty or a flat JSON object
 * whose values are strings, numbers, booleans or arrays of those ({@code null} values are left out);
 * anything else fails the send.
 *
 * <h2>Responses</h2>
 * The consumer answers once the handler's outcome is known, so the sender learns it:
 * 204 (with {@code X-Message-Id}) when the handler succeeded, possibly after in-process retries by the
 * route's failure policy; 400 when the body cannot be decoded (the handler is not called); 404 for a path
 * no queue is served at; 405 for a method the queue's route does not answer (with {@code Allow}); 413 for a
 * body over {@value #BODY_LIMIT}; 417 for an {@code Expect} header other than {@code 100-continue} (which is
 * answered); 500 when the handler failed on every attempt or timed out; 503 (with
 * {@code Retry-After}) while the loop is closing or when {@code maxInFlight + maxPending} requests are
 * already held. Every error has a JSON body {@code {"status":..., "error":"...", "errorId":"...",
 * "messageId":"..."}} and never a stack trace; the server logs the cause under the same {@code errorId}.
 * A producer's send succeeds on any 2xx and otherwise fails with a {@link dev.streamtools.SendException}
 * whose message holds the status and the start of the response body.
 */
public final class HttpSettings {

  /** Setting name: bind address (consumer) and target host (producer). */
  public static final String HOST = "HTTP_HOST";
  /** Setting name: server port (consumer) and target port (producer). */
  public static final String PORT = "HTTP_PORT";
  /** Setting name: request body limit in bytes. */
  public static final String BODY_LIMIT = "HTTP_BODY_LIMIT";
  /** Setting name: producer send timeout in milliseconds. */
  public static final String SEND_TIMEOUT_MS = "HTTP_SEND_TIMEOUT_MS";
  /** Setting name: producer connection pool size. */
  public static final String MAX_CONNECTIONS = "HTTP_MAX_CONNECTIONS";

  /** Default bind address of a consumer loop's server: every interface. */
  public static final String DEFAULT_BIND_HOST = "0.0.0.0";
  /** Default host a producer sends to. */
  public static final String DEFAULT_TARGET_HOST = "127.0.0.1";
  /** Default port. */
  public static final int DEFAULT_PORT = 9000;
  /** Default request body limit: 1 MiB. */
  public static final int DEFAULT_BODY_LIMIT = 1_048_576;
  /** Default producer send timeout: 30 s. */
  public static final int DEFAULT_SEND_TIMEOUT_MS = 30_000;
  /** Default producer connection pool size. */
  public static final int DEFAULT_MAX_CONNECTIONS = 64;

  private HttpSettings() {
  }
}
