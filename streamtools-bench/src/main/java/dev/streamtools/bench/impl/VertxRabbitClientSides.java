package dev.streamtools.bench.impl;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.rabbitmq.QueueOptions;
import io.vertx.rabbitmq.RabbitMQClient;
import io.vertx.rabbitmq.RabbitMQOptions;
import io.vertx.rabbitmq.RabbitMQPublisher;
import io.vertx.rabbitmq.RabbitMQPublisherOptions;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * vertx-rabbitmq-client used directly, the way its documentation shows, as reference sides: design.md names it
 * as the Vert.x client of the RabbitMQ transport, so these rows tell what running amqp-client behind an event
 * loop costs from the cost of streamtools itself. Same broker settings as the raw sides.
 */
final class VertxRabbitClientSides {

  private VertxRabbitClientSides() {
  }

  static RabbitMQOptions options(String name) {
    ConnectionFactory f = RabbitBench.factory();
    return new RabbitMQOptions().setHost(f.getHost()).setPort(f.getPort()).setUser(f.getUsername())
      .setPassword(f.getPassword()).setVirtualHost(f.getVirtualHost()).setAutomaticRecoveryEnabled(false)
      .setReconnectAttempts(0).setConnectionName("streamtools-bench " + name);
  }

  /** basicConsumer with basicQos(prefetch), basicAck(tag, multiple=true) every few deliveries, as the raw side. */
  static final class Consume implements Side {
    private final Vertx vertx;
    private final BenchOptions o;
    private final String queue = RabbitBench.queue("consume-vertx");
    private Context context;
    private Connection fillConnection;

    Consume(Vertx vertx, BenchOptions o) {
      this.vertx = vertx;
      this.o = o;
    }

    @Override
    public String label() {
      return "vertx-rabbitmq-client basicConsumer, a client started for the round, basicQos(" + RabbitBench.PREFETCH
        + "), basicAck(tag, true) every " + RabbitBench.ACK_EVERY + " deliveries";
    }

    @Override
    public void open() throws Exception {
      fillConnection = RabbitBench.connect("consume-vertx-fill");
      RabbitBench.declareDurable(fillConnection, queue, Map.of());
      context = Vx.newContext(vertx);
    }

    // a client (and so a connection) of the round's own, as the streamtools side's loop and the raw consumer have
    @Override
    public RoundResult round(int index, long durationNanos) throws Exception {
      RabbitBench.fill(fillConnection, queue, o.rmqBacklog);
      RabbitMQClient client = Vx.on(context, () -> {
        RabbitMQClient c = RabbitMQClient.create(vertx, options("consume-vertx"));
        return c.start().compose(ok -> c.basicQos(0, RabbitBench.PREFETCH, false)).map(c);
      });
      long[] counts = new long[3]; // handled, first, last: touched only on the context
      CompletableFuture<Void> all = new CompletableFuture<>();
      try {
        Vx.on(context, () -> client.basicConsumer(queue, new QueueOptions().setAutoAck(false)).map(c -> c.handler(m -> {
          long now = System.nanoTime();
          long n = ++counts[0];
          if (n == 1) {
            counts[1] = now;
          }
          counts[2] = now;
          if (n % RabbitBench.ACK_EVERY == 0 || n == o.rmqBacklog) {
            client.basicAck(m.envelope().getDeliveryTag(), true);
          }
          if (n == o.rmqBacklog) {
            all.complete(null);
          }
        })));
        all.get(300, TimeUnit.SECONDS);
      } finally {
        // stopping the client closes its connection, and with it the consumer
        Vx.on(context, client::stop);
      }
      return new RoundResult(counts[0] - 1, counts[2] - counts[1], Double.NaN, Double.NaN, 0);
    }

    @Override
    public void close() throws Exception {
      if (fillConnection != null) {
        RabbitBench.deleteQuietly(fillConnection, queue);
        fillConnection.close();
      }
    }
  }

  /**
   * RabbitMQPublisher.publishConfirm from one event loop, a basicConsumer on its own connection (basicQos(64),
   * ack each); one message at a time, with the properties streamtools publishes.
   */
  static final class Rtt implements Side {
    private final Vertx vertx;
    private final BenchOptions o;
    private final Buffer body = Payloads.json(100);
    private final String queue = RabbitBench.queue("rtt-vertx");
    private Context context;
    private RabbitMQClient pubClient;
    private RabbitMQPublisher publisher;
    private RabbitMQClient subClient;
    private volatile Promise<Void> received;

    Rtt(Vertx vertx, BenchOptions o) {
      this.vertx = vertx;
      this.o = o;
    }

    @Override
    public String label() {
      return "vertx-rabbitmq-client RabbitMQPublisher.publishConfirm + basicConsumer on its own connection, "
        + "basicQos(64), on one event loop; each message with a new id, a timestamp and the timestamp_in_ms header";
    }

    @Override
    public void open() throws Exception {
      // one verticle's publisher and consumer, as streamtools' side in rabbitmq.rtt
      context = Vx.newContext(vertx);
      subClient = Vx.on(context, () -> {
        RabbitMQClient c = RabbitMQClient.create(vertx, options("rtt-vertx-sub"));
        return c.start()
          .compose(v -> c.queueDeclare(queue, true, false, false))
          .compose(ok -> c.basicQos(0, 64, false))
          .compose(v -> c.basicConsumer(queue, new QueueOptions().setAutoAck(false)))
          .map(consumer -> {
            consumer.handler(m -> {
              c.basicAck(m.envelope().getDeliveryTag(), false);
              Promise<Void> r = received;
              if (r != null) {
                r.tryComplete();
              }
            });
            return c;
          });
      });
      pubClient = Vx.on(context, () -> {
        RabbitMQClient c = RabbitMQClient.create(vertx, options("rtt-vertx-pub"));
        return c.start().map(c);
      });
      publisher = Vx.on(context, () -> {
        RabbitMQPublisher p = RabbitMQPublisher.create(vertx, pubClient, new RabbitMQPublisherOptions());
        return p.start().map(p);
      });
    }

    @Override
    public RoundResult round(int index, long durationNanos) throws Exception {
      return AsyncWindow.run(context, 1, durationNanos, () -> {
        Promise<Void> r = Promise.promise();
        received = r;
        return Future.all(publisher.publishConfirm("", queue, RabbitBench.sameProperties(), body), r.future());
      });
    }

    @Override
    public void close() throws Exception {
      if (publisher != null) {
        Vx.on(context, () -> publisher.stop());
      }
      if (pubClient != null) {
        Vx.on(context, () -> pubClient.queueDelete(queue).transform(ar -> pubClient.stop()));
      }
      if (subClient != null) {
        Vx.on(context, () -> subClient.stop());
      }
    }
  }
}
