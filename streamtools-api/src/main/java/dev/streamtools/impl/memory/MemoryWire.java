package dev.streamtools.impl.memory;

import dev.streamtools.Message;
import dev.streamtools.SendException;
import dev.streamtools.Transports;
import dev.streamtools.spi.ContextInbox;
import dev.streamtools.spi.Settings;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Collections;
import java.util.Set;
import java.util.WeakHashMap;

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
   * What a memory queue carries: the message, addressed to its queue, and which delivery this is; and the
   * sender's end of the hand-over. Exactly one of {@link #take()}, {@link #refuse(String)} and the send
   * timeout settles it, whichever comes first, so a consumer never handles a message whose sender was told
   * the send failed. The sender learns the outcome through its context's {@link ContextInbox}: a consumer
   * that takes a burst wakes the sender's event loop once for the burst, not once per message as an
   * event-bus reply does (with its reply address, handler registration and close hook each).
   *
   * <p>Thread safety: {@link #take()} and {@link #refuse(String)} come from the consumer's thread
   * ({@link #refuse(String)} also from the sender's, when the event bus finds no consumer), the timeout and
   * {@link #run()} from the sender's context.
   */
  static final class Envelope<T> implements Runnable, Handler<Long> {

    private static final VarHandle STATE;
    private static final int PENDING = 0;
    private static final int TAKEN = 1;
    private static final int REFUSED = 2;
    private static final int TIMED_OUT = 3;

    static {
      try {
        STATE = MethodHandles.lookup().findVarHandle(Envelope.class, "state", int.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    private final Message message;
    private final int attempt;
    private final Vertx senderVertx;
    private final ContextInbox replies;
    private final Promise<T> sent;
    private final T result;
    private final long timeoutMillis;
    private final Runnable settled;
    private volatile int state;
    // Written before the envelope leaves (timer) or before the settling compare-and-set (refusal), read in run():
    // the event bus's and the inbox's queues order those writes before the read, with no volatile store per send.
    private long timer = -1;
    private String refusal;

    /**
     * @param message the message, addressed to the queue it is sent to
     * @param attempt which delivery this is, from 1
     * @param senderVertx the sender's instance, which runs the send timeout
     * @param replies where the outcome goes: an inbox of the sender's context
     * @param result what the send's Future succeeds with
     * @param timeoutMillis how long the sender waits for a consumer to take it
     * @param settled runs once the send's Future is completed or failed, on the sender's context; or {@code null}
     */
    Envelope(Message message, int attempt, Vertx senderVertx, ContextInbox replies, T result, long timeoutMillis,
             Runnable settled) {
      this.message = message;
      this.attempt = attempt;
      this.senderVertx = senderVertx;
      this.replies = replies;
      this.sent = Promise.promise();
      this.result = result;
      this.timeoutMillis = timeoutMillis;
      this.settled = settled;
    }

    Message message() {
      return message;
    }

    int attempt() {
      return attempt;
    }

    /** Starts the send timeout; the sender calls it once, before the envelope leaves. */
    Future<T> awaitTaken() {
      timer = senderVertx.setTimer(Math.max(1, timeoutMillis), this);
      return sent.future();
    }

    /**
     * A consumer takes the message; its send succeeds.
     *
     * @return false when the send already failed (its sender stopped waiting): the message must not be handled
     */
    boolean take() {
      if (STATE.compareAndSet(this, PENDING, TAKEN)) {
        replies.submit(this);
        return true;
      }
      return false;
    }

    /**
     * The message is not taken; its send fails with {@code reason}, unless it was settled before.
     *
     * @param reason why, as the send's failure says it
     */
    void refuse(String reason) {
      refusal = reason;
      if (STATE.compareAndSet(this, PENDING, REFUSED)) {
        replies.submit(this);
      }
    }

    /** The send timeout: fires on the sender's context. */
    @Override
    public void handle(Long timerId) {
      if (STATE.compareAndSet(this, PENDING, TIMED_OUT)) {
        sent.fail(new SendException(Transports.MEMORY, message.queue(), message.id(),
          "no consumer took it within " + timeoutMillis + " ms", null));
        settled();
      }
    }

    /** Tells the sender the outcome: runs on the sender's context, through its inbox. */
    @Override
    public void run() {
      long t = timer;
      if (t != -1) {
        senderVertx.cancelTimer(t);
      }
      if (state == TAKEN) {
        sent.complete(result);
      } else {
        sent.fail(new SendException(Transports.MEMORY, message.queue(), message.id(), refusal, null));
      }
      settled();
    }

    private void settled() {
      if (settled != null) {
        settled.run();
      }
    }
  }

  static String address(String queue) {
    return "streamtools.memory." + queue;
  }

  static long sendTimeoutMillis(JsonObject config) {
    return Settings.of(config).integer(SEND_TIMEOUT_SETTING, DEFAULT_SEND_TIMEOUT_MS);
  }

  /** Makes {@link Envelope}s sendable on this instance's event bus; idempotent. */
  @SuppressWarnings("unchecked") // the codec takes envelopes of any result type
  static void registerCodec(Vertx vertx) {
    if (WITH_CODEC.add(vertx)) {
      try {
        vertx.eventBus().registerDefaultCodec((Class<Envelope<?>>) (Class<?>) Envelope.class, new EnvelopeCodec());
      } catch (IllegalStateException alreadyRegistered) {
        // another class loader's copy of this transport registered it first: same codec, nothing to do
      }
    }
  }

  /** @return the message addressed to {@code queue}, copied only when it is not already */
  static Message addressedTo(Message message, String queue) {
    return queue.equals(message.queue()) ? message : message.withQueue(queue);
  }

  /**
   * @param failure why the event bus did not deliver an envelope
   * @param queue the queue it was sent to
   * @return the send's failure, as its {@link SendException} says it
   */
  static String undelivered(Throwable failure, String queue) {
    if (failure instanceof ReplyException && ((ReplyException) failure).failureType() == ReplyFailure.NO_HANDLERS) {
      return "no consumer is listening on " + Transports.MEMORY + " queue '" + queue + "'";
    }
    return "the event bus did not deliver it: " + failure;
  }

  private static final class EnvelopeCodec implements MessageCodec<Envelope<?>, Envelope<?>> {
    @Override
    public void encodeToWire(Buffer buffer, Envelope<?> envelope) {
      throw new UnsupportedOperationException("memory queues never leave the JVM");
    }

    @Override
    public Envelope<?> decodeFromWire(int pos, Buffer buffer) {
      throw new UnsupportedOperationException("memory queues never leave the JVM");
    }

    @Override
    public Envelope<?> transform(Envelope<?> envelope) {
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
