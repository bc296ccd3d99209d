package dev.streamtools.impl.memory;

import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.SendException;
import dev.streamtools.SendOptions;
import dev.streamtools.SendResult;
import dev.streamtools.Transports;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;

import java.util.function.Supplier;

/** Sends are event-bus requests; a consumer answers when it takes the message into its handler queue. */
final class MemoryProducer implements Producer {

  private final Vertx vertx;
  private final String queue;
  private final long sendTimeoutMillis;
  private final DeliveryOptions deliveryOptions;
  private volatile boolean closed;

  MemoryProducer(Vertx vertx, String queue, JsonObject config) {
    this.vertx = vertx;
    this.queue = queue;
    this.sendTimeoutMillis = MemoryWire.sendTimeoutMillis(config);
    // never modified after this: shared by every send that uses the default timeout
    this.deliveryOptions = new DeliveryOptions().setSendTimeout(sendTimeoutMillis);
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
    return send(message, options, () -> SendResult.of(Transports.MEMORY, queue, message.id()));
  }

  @Override
  public Future<Void> send(Message message, SendOptions options) {
    return send(message, options, () -> null);
  }

  // The sender's event loop also takes every reply, so each layer of Futures counts: one listener on the
  // event-bus reply completing one Promise, not a transform(...) (which adds a Future per message) nor the
  // four of sendForResult(...).map(...).recover(...).mapEmpty().
  private <T> Future<T> send(Message message, SendOptions options, Supplier<T> result) {
    if (closed) {
      return Future.failedFuture(new SendException(Transports.MEMORY, queue, message.id(), "producer is closed", null));
    }
    long timeout = options.timeout() != null ? options.timeout().toMillis() : sendTimeoutMillis;
    DeliveryOptions delivery = timeout == sendTimeoutMillis ? deliveryOptions
      : new DeliveryOptions().setSendTimeout(timeout);
    Promise<T> sent = Promise.promise();
    MemoryQueues.request(vertx, queue, new MemoryWire.Envelope(addressed(message, options), 1, delivery), delivery)
      .onComplete((reply, failure) -> {
        if (failure == null) {
          sent.complete(result.get());
        } else {
          sent.fail(new SendException(Transports.MEMORY, queue, message.id(),
            MemoryWire.describe(failure, queue, timeout), failure));
        }
      });
    return sent.future();
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
    closed = true;
    return Future.succeededFuture();
  }
}
