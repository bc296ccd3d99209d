package dev.streamtools;

/**
 * Header names streamtools reads and writes. Each transport carries the id, content type and
 * correlation id in its protocol's own fields (HTTP headers, AMQP properties, Kafka record headers);
 * these are the names used where the protocol has no field of its own, and the names of the
 * headers a dead letter carries in {@link Message#headers()}.
 */
public final class MessageHeaders {

  /** The message id (HTTP {@code X-Message-Id}; AMQP {@code message-id} property). */
  public static final String MESSAGE_ID = "message-id";
  /** The correlation id (HTTP {@code X-Correlation-Id}; AMQP {@code correlation-id} property). */
  public static final String CORRELATION_ID = "correlation-id";
  /** The content type (HTTP {@code Content-Type}; AMQP {@code content-type} property). */
  public static final String CONTENT_TYPE = "content-type";
  /** The delivery attempt, 1-based, where the protocol does not count deliveries itself. */
  public static final String ATTEMPT = "x-attempt";
  /** The Kafka record key, for transports that carry it as a header. */
  public static final String KEY = "x-key";
  /** On a dead letter: why the message was dead-lettered. */
  public static final String DEAD_LETTER_REASON = "x-dead-letter-reason";
  /** On a dead letter: the class of the exception that failed the last attempt, if any. */
  public static final String DEAD_LETTER_EXCEPTION = "x-dead-letter-exception";
  /** On a dead letter: the queue the message was dead-lettered from. */
  public static final String DEAD_LETTER_QUEUE = "x-dead-letter-queue";
  /** On a dead letter: how many deliveries were attempted. */
  public static final String DEAD_LETTER_ATTEMPTS = "x-dead-letter-attempts";
  /** On a dead letter: the transport it was dead-lettered on. */
  public static final String DEAD_LETTER_TRANSPORT = "x-dead-letter-transport";

  private MessageHeaders() {
  }
}
