package dev.streamtools.impl;

import io.vertx.core.buffer.Buffer;

import java.time.Instant;
import java.util.Map;

/**
 * The fields of a received message as its transport decodes them from the protocol's record, each when a
 * handler first reads it (see {@link ReceivedMessages}). A handler that reads only the body then never pays for
 * the key, the headers or the id; one that reads nothing pays for none of them.
 *
 * <p>Internal: for the project's transports. A method may be called more than once and from any thread, so
 * each must return an equal value every time and must not touch the transport's state.
 */
public interface WireFields {

  /** @return the body, a Buffer of its own (the message hands it to its readers) */
  Buffer body();

  /** @return the key, or {@code null} */
  String key();

  /** @return the timestamp, never {@code null} */
  Instant timestamp();

  /** @return what the record's headers carry */
  Headers headers();

  /**
   * The message fields a record's headers carry.
   *
   * @param id the message id, never {@code null}
   * @param contentType the content type, or {@code null}
   * @param correlationId the correlation id, or {@code null}
   * @param headers the user headers, unmodifiable
   */
  record Headers(String id, String contentType, String correlationId, Map<String, String> headers) {
  }
}
