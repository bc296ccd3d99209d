package dev.streamtools.rabbitmq.impl;

import com.rabbitmq.client.AMQP;
import dev.streamtools.FailurePolicy;
import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.SendException;
import dev.streamtools.SendOptions;
import dev.streamtools.SendResult;
import dev.streamtools.Transports;
import dev.streamtools.spi.Bodies;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Publishes to one queue (through the default exchange, or {@code RMQ_EXCHANGE} with its routing key) on its
 * own connection, with publisher confirms pipelined by {@link ConfirmPublisher}. Declares the queue, its DLQ
 * and the exchange on every connect, so a message sent before any consumer started is kept.
 */
final class RabbitMqProducer implements Producer {

  private final Context context;
  private final String queue;
  private final RmqSettings settings;
  private final RmqConnection connection;
  private final ConfirmPublisher publisher;
  private final Set<String> knownExchanges = new HashSet<>();

  private Future<Void> initFuture;
  private boolean closed;
  private Future<Void> closeFuture;

  RabbitMqProducer(Vertx vertx, String queue, JsonObject config) {
    this.queue = queue;
    this.settings = RmqSettings.from(config);
    this.context = vertx.getOrCreateContext();
    this.connection = new RmqConnection(vertx, context, settings, "producer", queue, this::setUp, this::down);
    this.publisher = new ConfirmPublisher(vertx, connection, queue, settings.confirmWindow, settings.maxPendingBytes,
      settings.sendTimeoutMillis, true);
    knownExchanges.add("");
    if (settings.exchange != null) {
      knownExchanges.add(settings.exchange);
    }
  }

  @Override
  public String transport() {
    return Transports.RABBITMQ;
  }

  @Override
  public String queue() {
    return queue;
  }

  @Override
  public Future<Void> init() {
    Promise<Void> p = Promise.promise();
    onContext(() -> doInit().onComplete(p));
    return p.future();
  }

  @Override
  public Future<SendResult> sendForResult(Message message, SendOptions options) {
    String exchange = options.exchange() != null ? options.exchange()
      : settings.exchange != null ? settings.exchange : "";
    String routingKey = options.routingKey() != null ? options.routingKey()
      : exchange.isEmpty() ? queue : settings.routingKey != null ? settings.routingKey : queue;
    long timeout = options.timeout() != null ? Math.max(1, options.timeout().toMillis()) : settings.sendTimeoutMillis;
    AMQP.BasicProperties props;
    try {
      props = AmqpWire.properties(message, options, 0);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(new SendException(Transports.RABBITMQ, queue, message.id(), e.getMessage(), e));
    }
    byte[] body = Bodies.array(message.body());
    if (Vertx.currentContext() == context) {
      return sendOnContext(message, exchange, routingKey, props, body, timeout);
    }
    Promise<SendResult> result = Promise.promise();
    context.runOnContext(v -> sendOnContext(message, exchange, routingKey, props, body, timeout)
      .onComplete(result));
    return result.future();
  }

  // on the context
  private Future<SendResult> sendOnContext(Message message, String exchange, String routingKey,
                                           AMQP.BasicProperties props, byte[] body, long timeout) {
    if (closed) {
      return Future.failedFuture(new SendException(Transports.RABBITMQ, queue, message.id(), "producer is closed", null));
    }
    if (initFuture == null || initFuture.failed()) {
      doInit();
    }
    Future<Void> published;
    if (knownExchanges.contains(exchange)) {
      published = publisher.publish(exchange, routingKey, props, body, timeout, queue, null);
    } else {
      published = checkExchange(exchange)
        .recover(e -> Future.failedFuture(e instanceof SendException ? e
          : new SendException(Transports.RABBITMQ, queue, message.id(), e.getMessage(), e)))
        .compose(v -> publisher.publish(exchange, routingKey, props, body, timeout, queue, null));
    }
    return published.map(v -> SendResult.of(Transports.RABBITMQ, queue, message.id()));
  }

  @Override
  public Future<Void> close() {
    Promise<Void> p = Promise.promise();
    onContext(() -> {
      if (closeFuture == null) {
        closed = true;
        closeFuture = publisher.close().transform(ar -> connection.close());
      }
      closeFuture.onComplete(p);
    });
    return p.future();
  }

  /** @return the most sends that were unconfirmed at once: shows confirms are pipelined */
  int peakUnconfirmed() {
    return publisher.peakUnconfirmed();
  }

  private Future<Void> doInit() {
    if (closed) {
      return Future.failedFuture(new IllegalStateException("rabbitmq producer for queue '" + queue + "' is closed"));
    }
    if (initFuture == null || initFuture.failed()) {
      initFuture = connection.connect().onFailure(publisher::failPending);
    }
    return initFuture;
  }

  private Future<Void> setUp(RmqConnection.Session session) {
    return connection.<Void>blocking(() -> {
      Topology.declare(session.connection, settings, queue, List.of(queue + FailurePolicy.DEAD_LETTER_SUFFIX));
      return null;
    }).compose(v -> publisher.attach(session));
  }

  private void down(Throwable cause) {
    publisher.detach(cause);
  }

  // A publish to a missing exchange makes the broker close the channel, failing every other send in flight on
  // it; checking an unknown exchange once, on a channel of its own, keeps that failure to the one send.
  private Future<Void> checkExchange(String exchange) {
    return connection.connect()
      .compose(v -> {
        RmqConnection.Session s = connection.session();
        if (s == null) {
          return Future.failedFuture("connection lost while checking exchange '" + exchange + "'");
        }
        return connection.blocking(() -> Topology.exchangeExists(s.connection, exchange));
      })
      .compose(exists -> {
        if (!exists) {
          return Future.failedFuture("exchange '" + exchange + "' does not exist");
        }
        knownExchanges.add(exchange);
        return Future.succeededFuture();
      });
  }

  private void onContext(Runnable action) {
    if (Vertx.currentContext() == context) {
      action.run();
    } else {
      context.runOnContext(v -> action.run());
    }
  }
}
