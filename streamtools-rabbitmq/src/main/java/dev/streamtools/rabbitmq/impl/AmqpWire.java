package dev.streamtools.rabbitmq.impl;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.LongString;
import dev.streamtools.Message;
import dev.streamtools.MessageHeaders;
import dev.streamtools.SendOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a {@link Message} travels over AMQP 0-9-1, with no wrapper: the body is the user's bytes; id, content
 * type, correlation id and timestamp are the AMQP properties of those names; user headers are AMQP headers
 * (string values); the attempt count is the {@code x-attempt} header, the key {@code x-key}. Messages are
 * persistent (delivery mode 2). The AMQP timestamp property has one-second resolution, so the milliseconds
 * travel in {@code timestamp_in_ms}, the header RabbitMQ's own message-timestamp plugin writes.
 */
final class AmqpWire {

  static final String TIMESTAMP_IN_MS = "timestamp_in_ms";
  static final int PERSISTENT = 2;

  private AmqpWire() {
  }

  /**
   * @param attempt the attempt to write in {@code x-attempt}, or 0 to write none
   */
  static AMQP.BasicProperties properties(Message m, SendOptions o, int attempt) {
    Map<String, Object> headers = new LinkedHashMap<>();
    m.headers().forEach(headers::put);
    o.headers().forEach(headers::put);
    String key = o.key() != null ? o.key() : m.key();
    if (key != null) {
      headers.put(MessageHeaders.KEY, key);
    }
    if (attempt > 0) {
      headers.put(MessageHeaders.ATTEMPT, attempt);
    }
    headers.put(TIMESTAMP_IN_MS, m.timestamp().toEpochMilli());
    AMQP.BasicProperties.Builder b = new AMQP.BasicProperties.Builder()
      .messageId(m.id())
      .contentType(m.contentType())
      .correlationId(m.correlationId())
      .timestamp(Date.from(m.timestamp()))
      .deliveryMode(PERSISTENT)
      .headers(headers);
    if (o.priority() != null) {
      if (o.priority() < 0 || o.priority() > 255) {
        throw new IllegalArgumentException("AMQP priority must be between 0 and 255, was " + o.priority());
      }
      b.priority(o.priority());
    }
    Duration ttl = o.ttl();
    if (ttl != null) {
      if (ttl.isNegative()) {
        throw new IllegalArgumentException("ttl must not be negative, was " + ttl);
      }
      b.expiration(Long.toString(ttl.toMillis()));
    }
    return b.build();
  }

  /** Rebuilds the message a client received. */
  static Message message(String queue, AMQP.BasicProperties p, byte[] body) {
    Message.Builder b = Message.builder()
      .queue(queue)
      .id(p.getMessageId())
      .contentType(p.getContentType())
      .correlationId(p.getCorrelationId())
      .body(Buffer.buffer(body == null ? new byte[0] : body));
    Instant ts = null;
    Map<String, Object> headers = p.getHeaders();
    if (headers != null) {
      for (Map.Entry<String, Object> e : headers.entrySet()) {
        String name = e.getKey();
        Object value = e.getValue();
        if (value == null) {
          continue;
        }
        if (name.equals(TIMESTAMP_IN_MS)) {
          ts = millis(value);
        } else if (name.equals(MessageHeaders.KEY)) {
          b.key(text(value));
        } else if (!name.equals(MessageHeaders.ATTEMPT)) {
          b.header(name, text(value));
        }
      }
    }
    if (ts == null && p.getTimestamp() != null) {
      ts = p.getTimestamp().toInstant();
    }
    b.timestamp(ts);
    return b.build();
  }

  /** @return the attempt this delivery is, from {@code x-attempt}; 1 when absent or unreadable */
  static int attempt(AMQP.BasicProperties p) {
    Map<String, Object> headers = p.getHeaders();
    Object v = headers == null ? null : headers.get(MessageHeaders.ATTEMPT);
    if (v == null) {
      return 1;
    }
    try {
      long a = v instanceof Number ? ((Number) v).longValue() : Long.parseLong(text(v).trim());
      return (int) Math.max(1, Math.min(Integer.MAX_VALUE, a));
    } catch (NumberFormatException e) {
      return 1;
    }
  }

  private static Instant millis(Object v) {
    try {
      long ms = v instanceof Number ? ((Number) v).longValue() : Long.parseLong(text(v).trim());
      return Instant.ofEpochMilli(ms);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** AMQP header values come as LongString, numbers, booleans, dates, byte arrays, lists and tables. */
  static String text(Object v) {
    if (v instanceof LongString || v instanceof String) {
      return v.toString();
    }
    if (v instanceof byte[]) {
      return new String((byte[]) v, StandardCharsets.UTF_8);
    }
    if (v instanceof Date) {
      return ((Date) v).toInstant().toString();
    }
    if (v instanceof List || v instanceof Map) {
      Object json = json(v);
      return json instanceof JsonArray ? ((JsonArray) json).encode() : ((JsonObject) json).encode();
    }
    return String.valueOf(v);
  }

  // x-death and other broker headers are tables and arrays; readable JSON beats a Java toString
  private static Object json(Object v) {
    if (v instanceof List) {
      JsonArray a = new JsonArray();
      for (Object o : (List<?>) v) {
        a.add(json(o));
      }
      return a;
    }
    if (v instanceof Map) {
      JsonObject o = new JsonObject();
      for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
        o.put(String.valueOf(e.getKey()), json(e.getValue()));
      }
      return o;
    }
    if (v instanceof Number || v instanceof Boolean || v == null) {
      return v;
    }
    return text(v);
  }
}
