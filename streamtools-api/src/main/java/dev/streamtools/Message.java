package dev.streamtools;

import dev.streamtools.impl.ReceivedMessages;
import dev.streamtools.impl.WireFields;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One message: the user's bytes plus the metadata every transport carries in its own headers.
 *
 * <p>Immutable and safe to share between threads. The body is never wrapped: what a producer sends
 * is exactly what a plain client of the protocol reads, and the reverse. The {@code with...} methods
 * return modified copies.
 *
 * <p>{@link #id()} is always set: a message built without one gets a random UUID.
 *
 * <p>A message a transport received may decode each field from its record when the field is first read (the
 * Kafka transport does): a handler pays only for the fields it reads, and a field reads the same from any thread.
 */
public final class Message {

  /** Content type of {@link #json(Object)} messages. */
  public static final String APPLICATION_JSON = "application/json";
  /** Content type of {@link #text(String)} messages. */
  public static final String TEXT_PLAIN = "text/plain; charset=utf-8";
  /** Content type of {@link #of(Buffer)} messages. */
  public static final String OCTET_STREAM = "application/octet-stream";

  private final String id;
  private final Buffer body;
  private final String contentType;
  private final String key;
  private final String queue;
  private final String correlationId;
  // null for a message stamped when it was built: its millisecond clock reading is kept instead, and the Instant
  // made when timestamp() is read (a transport that only wants the milliseconds makes none once compiled)
  private final Instant timestamp;
  private final long timestampMillis;
  private final Map<String, String> headers;
  // A received message's other fields are decoded from its record when first read: the fields above are null
  // then (queue aside), and wire decodes and keeps them.
  private final WireFields wire;

  static {
    ReceivedMessages.install(Message::new);
  }

  // The with... copies of fields other than the headers share the (unmodifiable) header map.
  private Message(String id, Buffer body, String contentType, String key, String queue, String correlationId,
                  Instant timestamp, Map<String, String> headers) {
    this(id, body, contentType, key, queue, correlationId, timestamp, 0, headers);
  }

  private Message(String id, Buffer body, String contentType, String key, String queue, String correlationId,
                  Instant timestamp, long timestampMillis, Map<String, String> headers) {
    this.id = id;
    this.body = body;
    this.contentType = contentType;
    this.key = key;
    this.queue = queue;
    this.correlationId = correlationId;
    this.timestamp = timestamp;
    this.timestampMillis = timestampMillis;
    this.headers = headers;
    this.wire = null;
  }

  private Message(String queue, WireFields wire) {
    this.id = null;
    this.body = null;
    this.contentType = null;
    this.key = null;
    this.queue = queue;
    this.correlationId = null;
    this.timestamp = null;
    this.timestampMillis = 0;
    this.headers = null;
    this.wire = wire;
  }

  /**
   * A JSON message: a {@link JsonObject}, {@link JsonArray}, record, POJO, map or scalar encoded with
   * Vert.x's Jackson codec.
   *
   * @param value the value to encode
   * @return a message with content type {@value #APPLICATION_JSON}
   */
  public static Message json(Object value) {
    Buffer encoded;
    if (value instanceof JsonObject) {
      encoded = ((JsonObject) value).toBuffer();
    } else if (value instanceof JsonArray) {
      encoded = ((JsonArray) value).toBuffer();
    } else {
      encoded = Json.encodeToBuffer(value);
    }
    return builder().body(encoded).contentType(APPLICATION_JSON).build();
  }

  /**
   * A UTF-8 text message.
   *
   * @param text the text
   * @return a message with content type {@value #TEXT_PLAIN}
   */
  public static Message text(String text) {
    return builder().body(Buffer.buffer(text, "UTF-8")).contentType(TEXT_PLAIN).build();
  }

  /**
   * A message of raw bytes.
   *
   * @param body the bytes, not copied: do not modify the buffer afterwards
   * @return a message with content type {@value #OCTET_STREAM}
   */
  public static Message of(Buffer body) {
    return builder().body(body).contentType(OCTET_STREAM).build();
  }

  /**
   * A builder for messages with every field set by hand; transports use it to rebuild received messages.
   *
   * @return a new empty builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** @return the message id: taken from the protocol's message-id header, or generated */
  public String id() {
    return wire == null ? id : wire.headers().id();
  }

  /** @return the body, exactly the bytes that travel on the wire */
  public Buffer body() {
    return wire == null ? body : wire.body();
  }

  /**
   * Decodes the body as a JSON object.
   *
   * @return a new {@link JsonObject} on every call
   * @throws MessageDecodeException if the body is not a JSON object
   */
  public JsonObject json() {
    try {
      Object decoded = Json.decodeValue(body());
      if (decoded instanceof JsonObject) {
        return (JsonObject) decoded;
      }
      throw new MessageDecodeException(this, "body is not a JSON object but " + describe(decoded));
    } catch (DecodeException e) {
      throw new MessageDecodeException(this, "body is not valid JSON: " + e.getMessage(), e);
    }
  }

  /**
   * Decodes the body into {@code type}: {@link JsonObject}, {@link JsonArray}, {@link String} (UTF-8),
   * {@link Buffer} (the body itself), or any type Jackson can bind (records, POJOs).
   *
   * @param type the target type
   * @param <T> the target type
   * @return the decoded value
   * @throws MessageDecodeException if the body cannot be decoded into {@code type}
   */
  @SuppressWarnings("unchecked")
  public <T> T as(Class<T> type) {
    Objects.requireNonNull(type, "type");
    if (type == Buffer.class) {
      return (T) body();
    }
    if (type == String.class) {
      return (T) body().toString(StandardCharsets.UTF_8);
    }
    if (type == JsonObject.class) {
      return (T) json();
    }
    try {
      T value = Json.decodeValue(body(), type);
      if (value == null) {
        throw new MessageDecodeException(this, "body is JSON null, expected " + type.getSimpleName());
      }
      return value;
    } catch (DecodeException | IllegalArgumentException | ClassCastException e) {
      throw new MessageDecodeException(this, "body does not decode as " + type.getSimpleName() + ": "
        + e.getMessage(), e);
    }
  }

  /** @return the user headers (not the id, key, content type or correlation id), unmodifiable */
  public Map<String, String> headers() {
    return wire == null ? headers : wire.headers().headers();
  }

  /**
   * @param name a header name
   * @return the header's value, or {@code null}
   */
  public String header(String name) {
    return headers().get(name);
  }

  /** @return the partitioning key (Kafka record key), or {@code null} */
  public String key() {
    return wire == null ? key : wire.key();
  }

  /** @return the queue the message was received from or is addressed to, or {@code null} */
  public String queue() {
    return queue;
  }

  /** @return the content type, or {@code null} when the sender gave none */
  public String contentType() {
    return wire == null ? contentType : wire.headers().contentType();
  }

  /** @return the correlation (trace) id, or {@code null} */
  public String correlationId() {
    return wire == null ? correlationId : wire.headers().correlationId();
  }

  /**
   * @return when the message was created by its producer, or received when the protocol does not say; a message
   *     built without one gets the current time to the millisecond, the precision every transport carries
   */
  public Instant timestamp() {
    if (wire != null) {
      return wire.timestamp();
    }
    return timestamp != null ? timestamp : Instant.ofEpochMilli(timestampMillis);
  }

  /**
   * @param id the new id
   * @return a copy with this id
   */
  public Message withId(String id) {
    return new Message(Objects.requireNonNull(id, "id"), body(), contentType(), key(), queue, correlationId(),
      timestamp(), headers());
  }

  /**
   * @param key the new partitioning key, or {@code null}
   * @return a copy with this key
   */
  public Message withKey(String key) {
    return new Message(id(), body(), contentType(), key, queue, correlationId(), timestamp(), headers());
  }

  /**
   * @param correlationId the new correlation id, or {@code null}
   * @return a copy with this correlation id
   */
  public Message withCorrelationId(String correlationId) {
    return new Message(id(), body(), contentType(), key(), queue, correlationId, timestamp(), headers());
  }

  /**
   * Transports use it to tell a handler where a message came from.
   *
   * @param queue the queue, or {@code null}
   * @return a copy with this queue
   */
  public Message withQueue(String queue) {
    return new Message(id(), body(), contentType(), key(), queue, correlationId(), timestamp(), headers());
  }

  /**
   * @param name header name
   * @param value header value
   * @return a copy with this header added or replaced
   */
  public Message withHeader(String name, String value) {
    return toBuilder().header(name, value).build();
  }

  /**
   * @param headers headers to add or replace
   * @return a copy with these headers added or replaced
   */
  public Message withHeaders(Map<String, String> headers) {
    return toBuilder().headers(headers).build();
  }

  /** @return a builder holding this message's fields */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.id = id();
    b.body = body();
    b.contentType = contentType();
    b.key = key();
    b.queue = queue;
    b.correlationId = correlationId();
    b.timestamp = timestamp();
    Map<String, String> h = headers();
    if (!h.isEmpty()) {
      b.headers = new LinkedHashMap<>(h);
    }
    return b;
  }

  @Override
  public String toString() {
    return "Message{id=" + id() + ", queue=" + queue + ", key=" + key() + ", contentType=" + contentType()
      + ", bytes=" + body().length() + ", headers=" + headers().keySet() + "}";
  }

  // A version-4 UUID from ThreadLocalRandom: ids must be unique, not unpredictable, and UUID.randomUUID()'s
  // shared SecureRandom was 6% of the memory transport's CPU in the benchmark.
  private static String randomId() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long msb = (random.nextLong() & ~0xF000L) | 0x4000L;
    long lsb = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb).toString();
  }

  private static String describe(Object decoded) {
    if (decoded == null) {
      return "null";
    }
    if (decoded instanceof JsonArray) {
      return "an array";
    }
    return "a " + decoded.getClass().getSimpleName();
  }

  /** Builds a {@link Message}; not thread safe. */
  public static final class Builder {
    private String id;
    private Buffer body;
    private String contentType;
    private String key;
    private String queue;
    private String correlationId;
    private Instant timestamp;
    // most messages have no user headers: the map is made for the first one
    private Map<String, String> headers;

    private Builder() {
    }

    /**
     * @param id message id; {@code null} generates one
     * @return this builder
     */
    public Builder id(String id) {
      this.id = id;
      return this;
    }

    /**
     * @param body the bytes
     * @return this builder
     */
    public Builder body(Buffer body) {
      this.body = body;
      return this;
    }

    /**
     * @param contentType the content type, or {@code null}
     * @return this builder
     */
    public Builder contentType(String contentType) {
      this.contentType = contentType;
      return this;
    }

    /**
     * @param key the partitioning key, or {@code null}
     * @return this builder
     */
    public Builder key(String key) {
      this.key = key;
      return this;
    }

    /**
     * @param queue the queue, or {@code null}
     * @return this builder
     */
    public Builder queue(String queue) {
      this.queue = queue;
      return this;
    }

    /**
     * @param correlationId the correlation id, or {@code null}
     * @return this builder
     */
    public Builder correlationId(String correlationId) {
      this.correlationId = correlationId;
      return this;
    }

    /**
     * @param timestamp creation time; {@code null} means now
     * @return this builder
     */
    public Builder timestamp(Instant timestamp) {
      this.timestamp = timestamp;
      return this;
    }

    /**
     * @param name header name
     * @param value header value; {@code null} removes the header
     * @return this builder
     */
    public Builder header(String name, String value) {
      Objects.requireNonNull(name, "header name");
      if (value == null) {
        if (headers != null) {
          headers.remove(name);
        }
      } else {
        if (headers == null) {
          headers = new LinkedHashMap<>();
        }
        headers.put(name, value);
      }
      return this;
    }

    /**
     * @param headers headers to add or replace
     * @return this builder
     */
    public Builder headers(Map<String, String> headers) {
      headers.forEach(this::header);
      return this;
    }

    /** @return the message */
    public Message build() {
      // The fields are read here, not in a Message constructor that takes the builder: a small build() is inlined
      // where the builder is used, and the builder then needs no object (it was 48 of the bytes each Kafka send
      // made: BENCHMARKS.md, twenty-third session). The time is to the millisecond, as every transport carries it
      // (Kafka's record timestamp, the HTTP and AMQP headers), so a message reads the same after any of them; and
      // the millisecond clock is cheaper than Instant.now() (27 ns per message on a producer's event loop, against
      // 38; async-profiler, kafka.produce.100B).
      return new Message(id != null ? id : randomId(), body != null ? body : Buffer.buffer(), contentType, key,
        queue, correlationId, timestamp, timestamp != null ? 0 : System.currentTimeMillis(), copyOf(headers));
    }

    private static Map<String, String> copyOf(Map<String, String> headers) {
      return headers == null || headers.isEmpty() ? Map.of()
        : Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    }
  }
}
