package dev.streamtools.impl.memory;

import dev.streamtools.Message;
import dev.streamtools.Transports;
import dev.streamtools.spi.Settings;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;

import java.util.Collections;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.TimeUnit;

/**
 * How a message travels on the event bus: the immutable {@link Message} itself, with its delivery attempt,
 * through a local-only codec. Memory queues never leave the JVM, so nothing is encoded: the benchmark showed
 * writing and parsing per-message string headers as a fifth of the transport's cost.
 */
final class MemoryWire {

  /** Milliseconds a send waits for a consumer to take the message. */
  static final String SEND_TIMEOUT_SETTING = "MEMORY_SEND_TIMEOUT_MS";
  static final int DEFAULT_SEND_TIMEOUT_MS = 30_000;

  private static final Set<Vertx> WITH_CODEC = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

  private MemoryWire() {
  }

  /**
   * What a memory queue carries: the message, addressed to its queue, which delivery this is, and when its
   * sender stops waiting ({@link System#nanoTime()}): a consumer does not take a message whose sender was
   * already told the send timed out.
   */
  record Envelope(Message message, int attempt, long deadlineNanos) {
    Envelope(Message message, int attempt, DeliveryOptions sentWith) {
      this(message, attempt, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(sentWith.getSendTimeout()));
    }

    boolean expired() {
      return System.nanoTime() - deadlineNanos >= 0;
    }
  }

  static String address(String queue) {
    return "streamtools.memory." + queue;
  }

  static long sendTimeoutMillis(JsonObject config) {
    return Settings.of(config).integer(SEND_TIMEOUT_SETTING, DEFAULT_SEND_TIMEOUT_MS);
  }

  /** Makes {@link Envelope}s sendable on this instance's event bus; idempotent. */
  static void registerCodec(Vertx vertx) {
    if (WITH_CODEC.add(vertx)) {
      try {
        vertx.eventBus().registerDefaultCodec(Envelope.class, new EnvelopeCodec());
      } catch (IllegalStateException alreadyRegistered) {
        // another class loader's copy of this transport registered it first: same codec, nothing to do
      }
    }
  }

  /** @return the message addressed to {@code queue}, copied only when it is not already */
  static Message addressedTo(Message message, String queue) {
    return queue.equals(message.queue()) ? message : message.withQueue(queue);
  }

  static String describe(Throwable failure, String queue, long timeoutMillis) {
    if (failure instanceof ReplyException) {
      ReplyException r = (ReplyException) failure;
      switch (r.failureType()) {
        case NO_HANDLERS:
          return "no consumer is listening on " + Transports.MEMORY + " queue '" + queue + "'";
        case TIMEOUT:
          return "no consumer took it within " + timeoutMillis + " ms";
        default:
          return "the consumer refused it: " + r.getMessage();
      }
    }
    return String.valueOf(failure);
  }

  private static final class EnvelopeCodec implements MessageCodec<Envelope, Envelope> {
    @Override
    public void encodeToWire(Buffer buffer, Envelope envelope) {
      throw new UnsupportedOperationException("memory queues never leave the JVM");
    }

    @Override
    public Envelope decodeFromWire(int pos, Buffer buffer) {
      throw new UnsupportedOperationException("memory queues never leave the JVM");
    }

    @Override
    public Envelope transform(Envelope envelope) {
      return envelope;
    }

    @Override
    public String name() {
      return "streamtools.memory.envelope";
    }

    @Override
    public byte systemCodecID() {
      return -1;
    }
  }
}
