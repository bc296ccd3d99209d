package dev.streamtools.impl.memory;

import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.SendException;
import dev.streamtools.SendOptions;
import dev.streamtools.SendResult;
import dev.streamtools.Transports;
import dev.streamtools.spi.ContextInbox;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sends envelopes on the event bus; a consumer settles each when it takes the message into its handler queue
 * or refuses it (see {@link MemoryWire.Envelope}). {@code close()} completes once every send started before it
 * is settled: taken, refused or timed out.
 */
final class MemoryProducer implements Producer {

  private final Vertx vertx;
  private final String queue;
  private final long sendTimeoutMillis;
  private final AtomicInteger sending = new AtomicInteger();
  private final Promise<Void> closed = Promise.promise(); // completed once closing and no send is unsettled
  private final Runnable sendSettled = this::sendSettled;
  private volatile ContextInbox replies;
  private volatile boolean closing;

  MemoryProducer(Vertx vertx, String queue, JsonObject config) {
    this.vertx = vertx;
    this.queue = queue;
    this.sendTimeoutMillis = MemoryWire.sendTimeoutMillis(config);
    MemoryWire.registerCodec(vertx);
  }

  @Override
  public String transport() {
    return Transports.MEMORY;
  }

  @Override
  public String queue() {
    return queue;
  }

  @Override
  public Future<Void> init() {
    return Future.succeededFuture();
  }

  @Override
  public Future<SendResult> sendForResult(Message message, SendOptions options) {
    return send(message, options, SendResult.of(Transports.MEMORY, queue, message.id()));
  }

  @Override
  public Future<Void> send(Message message, SendOptions options) {
    return send(message, options, null);
  }

  private <T> Future<T> send(Message message, SendOptions options, T result) {
    // counted before the check, so a close() that does not see this send is seen by it
    sending.incrementAndGet();
    if (closing) {
      sendSettled();
      return Future.failedFuture(new SendException(Transports.MEMORY, queue, message.id(), "producer is closed", null));
    }
    long timeout = options.timeout() != null ? options.timeout().toMillis() : sendTimeoutMillis;
    return MemoryQueues.send(vertx, repliesOn(vertx.getOrCreateContext()), addressed(message, options), 1, timeout,
      result, sendSettled);
  }

  private void sendSettled() {
    if (sending.decrementAndGet() == 0 && closing) {
      closed.tryComplete();
    }
  }

  // One inbox per context the producer sends from: the last one is kept, as a producer mostly sends from one.
  private ContextInbox repliesOn(Context context) {
    ContextInbox r = replies;
    if (r == null || r.context() != context) {
      r = new ContextInbox(context);
      replies = r;
    }
    return r;
  }

  private Message addressed(Message message, SendOptions options) {
    if (options.key() == null && options.headers().isEmpty()) {
      return MemoryWire.addressedTo(message, queue);
    }
    Message.Builder b = message.toBuilder().queue(queue).headers(options.headers());
    if (options.key() != null) {
      b.key(options.key());
    }
    return b.build();
  }

  @Override
  public Future<Void> close() {
    closing = true;
    if (sending.get() == 0) {
      closed.tryComplete();
    }
    return closed.future();
  }
}
