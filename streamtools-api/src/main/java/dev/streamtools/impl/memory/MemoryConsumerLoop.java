package dev.streamtools.impl.memory;

import dev.streamtools.ConsumerLoop;
import dev.streamtools.Message;
import dev.streamtools.MessageHandler;
import dev.streamtools.RouteOptions;
import dev.streamtools.Transports;
import dev.streamtools.spi.ContextInbox;
import dev.streamtools.spi.DeadLetters;
import dev.streamtools.spi.Delivery;
import dev.streamtools.spi.Dispatcher;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.MessageConsumerOptions;
import io.vertx.core.eventbus.impl.MessageConsumerImpl;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;

/**
 * Consumes an event-bus address. An envelope is taken (the producer's send completes) when its message
 * enters the dispatcher; until a slot is free it waits, up to {@link RouteOptions#maxPending()}, beyond which
 * it is refused so the producer's send fails.
 */
final class MemoryConsumerLoop implements ConsumerLoop {

  private static final Logger LOG = LoggerFactory.getLogger(MemoryConsumerLoop.class);

  private final Vertx vertx;
  private final String queue;
  private final String address;
  private final long sendTimeoutMillis;
  private final ArrayDeque<MemoryWire.Envelope<?>> waiting = new ArrayDeque<>();

  private Context context;
  private RouteOptions options;
  private Dispatcher dispatcher;
  private MessageConsumer<MemoryWire.Envelope<?>> consumer;
  private volatile boolean ready;
  private boolean closing;
  private Future<Void> closed;

  MemoryConsumerLoop(Vertx vertx, String queue, JsonObject config) {
    this.vertx = vertx;
    this.queue = queue;
    this.address = MemoryWire.address(queue);
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
  public synchronized Future<Void> start(MessageHandler handler, RouteOptions options) {
    if (context != null) {
      return Future.failedFuture(new IllegalStateException("memory consumer loop for queue '" + queue
        + "' is already started"));
    }
    this.context = vertx.getOrCreateContext();
    this.options = options;
    this.dispatcher = Dispatcher.create(context, Transports.MEMORY, queue, handler, options)
      .capacityHandler(v -> admitWaiting());
    Promise<Void> started = Promise.promise();
    context.runOnContext(v -> {
      // The event bus drops, with only a log line, what its consumer has not taken once 1000 are buffered
      // (MessageConsumerOptions.DEFAULT_MAX_BUFFERED_MESSAGES); the sender would wait out its timeout. This
      // consumer never pauses and refuses beyond maxPending itself, at once: let that be the only bound.
      consumer = vertx.eventBus().consumer(new MessageConsumerOptions().setAddress(address).setLocalOnly(true)
        .setMaxBufferedMessages(Integer.MAX_VALUE), this::onEnvelope);
      // Envelopes still on their way when close() unregisters the consumer are discarded by the event bus,
      // which answers a discarded request but not a plain send: refuse them, or their senders would learn it
      // only from their send timeout. MessageConsumerImpl is Vert.x's only MessageConsumer.
      if (consumer instanceof MessageConsumerImpl) {
        ((MessageConsumerImpl<MemoryWire.Envelope<?>>) consumer).discardHandler(m -> m.body().refuse(closingRefusal()));
      }
      consumer.completion().onSuccess(x -> {
        MemoryQueues.register(queue, vertx);
        ready = true;
      }).onComplete(started);
    });
    return started.future();
  }

  @Override
  public boolean isReady() {
    return ready;
  }

  @Override
  public synchronized Future<Void> close() {
    if (closed != null) {
      return closed;
    }
    if (context == null) {
      closed = Future.succeededFuture();
      return closed;
    }
    Promise<Void> done = Promise.promise();
    closed = done.future();
    context.runOnContext(v -> {
      closing = true;
      ready = false;
      MemoryQueues.unregister(queue, vertx);
      MemoryWire.Envelope<?> w;
      while ((w = waiting.poll()) != null) {
        w.refuse(closingRefusal());
      }
      consumer.unregister()
        .transform(x -> dispatcher.close(options.drainTimeout()))
        .<Void>mapEmpty()
        .onComplete(done);
    });
    return closed;
  }

  private void onEnvelope(io.vertx.core.eventbus.Message<MemoryWire.Envelope<?>> delivered) {
    MemoryWire.Envelope<?> envelope = delivered.body();
    if (closing) {
      envelope.refuse(closingRefusal());
    } else if (waiting.isEmpty() && dispatcher.hasCapacity()) {
      admit(envelope);
    } else if (waiting.size() < options.maxPending()) {
      waiting.add(envelope);
    } else {
      envelope.refuse("the consumer refused it: memory queue '" + queue + "' is full: " + waiting.size()
        + " messages wait for the handler (maxPending)");
    }
  }

  private String closingRefusal() {
    return "the consumer refused it: memory queue '" + queue + "' consumer is closing";
  }

  private void admitWaiting() {
    while (!waiting.isEmpty() && dispatcher.hasCapacity()) {
      admit(waiting.poll());
    }
  }

  private void admit(MemoryWire.Envelope<?> envelope) {
    if (!envelope.take()) {
      // it waited for admission longer than its send timeout: the sender was told the send failed, so
      // handling it now would act on a message its sender may already have sent again
      LOG.debug("[memory queue '{}'] message {} not taken: its sender stopped waiting (send timeout)", queue,
        envelope.message().id());
      return;
    }
    dispatcher.dispatch(new MemoryDelivery(envelope.message(), envelope.attempt()));
  }

  /** Settles by re-sending: a retry goes back to the queue's address, a dead letter to the DLQ's. */
  private final class MemoryDelivery implements Delivery {
    private final Message message;
    private final int attempt;

    MemoryDelivery(Message message, int attempt) {
      this.message = message;
      this.attempt = attempt;
    }

    @Override
    public Message message() {
      return message;
    }

    @Override
    public int attempt() {
      return attempt;
    }

    @Override
    public Future<Void> ack() {
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> retry(Duration delay, Throwable cause) {
      vertx.setTimer(Math.max(1, delay.toMillis()), id -> resend(queue, message, attempt + 1)
        .onFailure(e -> deadLetter(options.failurePolicy().deadLetterQueueFor(queue),
          "retry " + (attempt + 1) + " could not be delivered: " + e.getMessage(), cause)));
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> deadLetter(String deadLetterQueue, String reason, Throwable cause) {
      Message deadLetter = DeadLetters.of(message, Transports.MEMORY, queue, attempt, reason, cause);
      return resend(deadLetterQueue, deadLetter, 1)
        .recover(e -> {
          // memory keeps nothing without a consumer: say loudly what is gone
          LOG.error("[memory queue '{}'] dead letter of message {} was not taken by memory queue '{}' ({}); "
            + "the message ({} bytes) is dropped. Reason it was dead-lettered: {}", queue, message.id(),
            deadLetterQueue, e.getMessage(), message.body().length(), reason);
          return Future.succeededFuture();
        });
    }

    @Override
    public Future<Void> release() {
      return resend(queue, message, attempt).recover(e -> {
        LOG.error("[memory queue '{}'] message {} released on close was not taken by another consumer ({}); "
          + "it is dropped", queue, message.id(), e.getMessage());
        return Future.succeededFuture();
      });
    }

    private Future<Void> resend(String toQueue, Message m, int nextAttempt) {
      return MemoryQueues.send(vertx, new ContextInbox(vertx.getOrCreateContext()),
        MemoryWire.addressedTo(m, toQueue), nextAttempt, sendTimeoutMillis, null, null);
    }
  }
}
