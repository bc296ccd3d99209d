package dev.streamtools.impl;

import io.vertx.core.buffer.Buffer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Instant;
import java.util.Map;

/**
 * The fields of a received message, decoded from the transport's record when a handler first reads each one
 * (see {@link ReceivedMessages}), and kept: a handler that reads only the body never pays for the key, the
 * headers or the id; one that reads nothing pays for none of them. The message holds this one reference, so a
 * message built by a user is no larger for it.
 *
 * <p>Thread safety: the caches are racy like {@code String.hashCode}'s. Each value but the body is immutable,
 * so a thread that sees the reference sees the whole value, and two threads decoding at once get equal values.
 * A Buffer is mutable: the first decoded body is installed with a compare-and-set and every reader gets that
 * one (a lock cost as much as making the Buffer).
 *
 * <p>Internal: for the project's transports. A {@code decode...} method may be called more than once and from
 * any thread, so each must return an equal value every time and must not touch the transport's state.
 */
public abstract class WireFields {

  private static final VarHandle BODY;

  static {
    try {
      BODY = MethodHandles.lookup().findVarHandle(WireFields.class, "body", Buffer.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private String key;
  private Instant timestamp;
  private Headers headers;
  private volatile Buffer body;

  /** For subclasses. */
  protected WireFields() {
  }

  /** @return the body, a Buffer of its own (the message hands it to its readers) */
  protected abstract Buffer decodeBody();

  /** @return the key, or {@code null} */
  protected abstract String decodeKey();

  /** @return the timestamp, never {@code null} */
  protected abstract Instant decodeTimestamp();

  /** @return what the record's headers carry */
  protected abstract Headers decodeHeaders();

  /** @return the body, decoded on the first call */
  public final Buffer body() {
    Buffer b = body;
    if (b == null) {
      b = decodeBody();
      if (!BODY.compareAndSet(this, null, b)) {
        b = body;
      }
    }
    return b;
  }

  /** @return the key, decoded on the first call (again on each call while it is {@code null}) */
  public final String key() {
    String k = key;
    if (k == null) {
      k = decodeKey();
      key = k;
    }
    return k;
  }

  /** @return the timestamp, decoded on the first call */
  public final Instant timestamp() {
    Instant t = timestamp;
    if (t == null) {
      t = decodeTimestamp();
      timestamp = t;
    }
    return t;
  }

  /** @return the header fields, decoded on the first call */
  public final Headers headers() {
    Headers h = headers;
    if (h == null) {
      h = decodeHeaders();
      headers = h;
    }
    return h;
  }

  /**
   * The message fields a record's headers carry.
   *
   * @param id the message id, never {@code null}
   * @param contentType the content type, or {@code null}
   * @param correlationId the correlation id, or {@code null}
   * @param headers the user headers, unmodifiable
   */
  public record Headers(String id, String contentType, String correlationId, Map<String, String> headers) {
  }
}
