package dev.streamtools.kafka.impl;

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
import io.vertx.core.internal.VertxInternal;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sends to one topic through a byte-array {@link KafkaProducer}. A send completes when the broker acknowledged
 * the record ({@code acks=all} by default), with its partition and offset.
 *
 * <p>{@code KafkaProducer.send} may block (metadata, a full {@code buffer.memory}), so records are handed to it on
 * a worker: in batches, one ordered worker task for everything sent since the last one went out, and the
 * acknowledgements come back through one {@link ContextInbox}, a context task per burst. vertx-kafka-client's
 * {@code KafkaWriteStream} costs a worker task per record and two context tasks per acknowledgement, which
 * capped 100-byte sends at less than half the raw client's rate (BENCHMARKS.md).
 */
public final class KafkaTopicProducer implements Producer {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaTopicProducer.class);

  private final Vertx vertx;
  private final String topic;
  private final KafkaClientConfig config;
  private final Context context;
  private final AtomicInteger unacknowledged = new AtomicInteger();
  private final io.vertx.core.Closeable closeHook = completion -> close().onComplete(completion);

  private final ContextInbox acknowledgements;

  /** One send, from {@link #sendForResult} to its outcome. */
  private static final class Outgoing {
    final Message message;
    final ProducerRecord<byte[], byte[]> record;
    final Promise<SendResult> result = Promise.promise();
    long timer = -1;

    Outgoing(Message message, ProducerRecord<byte[], byte[]> record) {
      this.message = message;
      this.record = record;
    }
  }

  // touched only on the context
  private final ArrayDeque<Runnable> waitingForInit = new ArrayDeque<>();
  private final ArrayDeque<Outgoing> toHandOver = new ArrayDeque<>();
  private boolean handingOver;
  private Promise<Void> allHandedOver;
  private Future<Void> initialized;
  private KafkaProducer<byte[], byte[]> producer;
  private volatile boolean closing;
  private Promise<Void> closed;

  /**
   * @param vertx the Vert.x instance
   * @param topic the topic
   * @param config its settings
   */
  public KafkaTopicProducer(Vertx vertx, String topic, KafkaClientConfig config) {
    this.vertx = vertx;
    this.topic = topic;
    this.config = config;
    this.context = vertx.getOrCreateContext();
    this.acknowledgements = new ContextInbox(context);
  }

  @Override
  public String transport() {
    return Transports.KAFKA;
  }

  @Override
  public String queue() {
    return topic;
  }

  @Override
  public Future<Void> init() {
    Promise<Void> p = Promise.promise();
    onContext(() -> {
      if (closing) {
        p.fail(new SendException(Transports.KAFKA, topic, "-", "producer is closed", null));
      } else {
        startOnContext().onComplete(p);
      }
    });
    return p.future();
  }

  private Future<Void> startOnContext() {
    if (initialized != null) {
      return initialized;
    }
    Future<Void> starting = Topics.ensure(context, config, topic)
      .compose(v -> context.executeBlocking(() -> {
        Map<String, Object> props = config.producerProperties();
        LOG.info("[kafka queue '{}'] producer connecting to {} with {}", topic, config.bootstrapServers(),
          KafkaClientConfig.describe(props));
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
      }))
      .map(raw -> {
        producer = raw;
        ((VertxInternal) vertx).addCloseHook(closeHook);
        return (Void) null;
      });
    initialized = starting;
    starting.onComplete(ar -> {
      if (ar.failed()) {
        initialized = null; // the next init() or send tries again
      }
      // sends accepted while starting go out in the order they were made, even if close() came since
      Runnable r;
      while ((r = waitingForInit.poll()) != null) {
        r.run();
      }
    });
    return starting;
  }

  @Override
  public Future<SendResult> sendForResult(Message message, SendOptions options) {
    if (closing) {
      return Future.failedFuture(new SendException(Transports.KAFKA, topic, message.id(), "producer is closed",
        null));
    }
    String key = options.key() != null ? options.key() : message.key();
    Outgoing o;
    try {
      o = new Outgoing(message, KafkaWire.record(topic, message, key, options.partition(), options.headers()));
    } catch (RuntimeException e) {
      return Future.failedFuture(new SendException(Transports.KAFKA, topic, message.id(),
        "cannot build the record: " + e, e));
    }
    unacknowledged.incrementAndGet();
    // Everything goes through the context, so sends made one after the other reach Kafka in that order.
    onContext(() -> {
      if (producer != null) {
        send(o, options);
        return;
      }
      waitingForInit.add(() -> {
        if (producer != null) {
          send(o, options);
        } else {
          Throwable cause = initialized == null ? null : initialized.cause();
          unacknowledged.decrementAndGet();
          o.result.tryFail(new SendException(Transports.KAFKA, topic, message.id(), "producer could not start: "
            + (cause == null ? "closed" : cause.getMessage()), cause));
        }
      });
      if (closing && initialized == null) {
        waitingForInit.poll().run();
      } else {
        startOnContext();
      }
    });
    return o.result.future();
  }

  private void onContext(Runnable action) {
    if (Vertx.currentContext() == context) {
      action.run();
    } else {
      context.runOnContext(v -> action.run());
    }
  }

  private void send(Outgoing o, SendOptions options) {
    if (options.timeout() != null) {
      long millis = Math.max(1, options.timeout().toMillis());
      o.timer = vertx.setTimer(millis, id -> o.result.tryFail(new SendException(Transports.KAFKA, topic,
        o.message.id(), "the broker did not acknowledge within " + millis + " ms (the record may still be written "
          + "later; Kafka's own bound is delivery.timeout.ms)", null)));
    }
    toHandOver.add(o);
    handOver();
  }

  private void handOver() {
    if (handingOver) {
      return;
    }
    if (toHandOver.isEmpty()) {
      if (allHandedOver != null) {
        allHandedOver.complete();
        allHandedOver = null;
      }
      return;
    }
    handingOver = true;
    List<Outgoing> batch = new ArrayList<>(toHandOver);
    toHandOver.clear();
    KafkaProducer<byte[], byte[]> p = producer;
    context.executeBlocking(() -> {
      for (Outgoing o : batch) {
        try {
          p.send(o.record, (md, error) -> acknowledgements.submit(() -> acknowledged(o, md, error)));
        } catch (RuntimeException e) {
          // what send throws instead of reporting to the callback (closed producer, interrupted, serializer)
          acknowledgements.submit(() -> acknowledged(o, null, e));
        }
      }
      return null;
    }).onComplete(ar -> {
      handingOver = false;
      handOver();
    });
  }

  private void acknowledged(Outgoing o, RecordMetadata md, Exception error) {
    unacknowledged.decrementAndGet();
    if (o.timer != -1) {
      vertx.cancelTimer(o.timer);
    }
    if (error == null) {
      o.result.tryComplete(new SendResult(Transports.KAFKA, topic, o.message.id(), md.partition(),
        md.hasOffset() ? md.offset() : -1L));
    } else {
      o.result.tryFail(new SendException(Transports.KAFKA, topic, o.message.id(), describe(error), error));
    }
  }

  /** @return a Future completed once every send made so far has been handed to the Kafka producer */
  private Future<Void> handedOver() {
    if (!handingOver && toHandOver.isEmpty()) {
      return Future.succeededFuture();
    }
    if (allHandedOver == null) {
      allHandedOver = Promise.promise();
    }
    return allHandedOver.future();
  }

  private String describe(Throwable e) {
    if (e instanceof TimeoutException) {
      return "not acknowledged by the broker in time (" + e.getMessage() + "); is " + config.bootstrapServers()
        + " reachable and the topic present?";
    }
    if (e instanceof RecordTooLargeException) {
      return "record too large for the producer or broker (max.request.size / message.max.bytes): " + e.getMessage();
    }
    return e.toString();
  }

  @Override
  public Future<Void> close() {
    Promise<Void> p = Promise.promise();
    closing = true;
    onContext(() -> {
      if (closed == null) {
        closed = Promise.promise();
        Future<Void> starting = initialized == null ? Future.succeededFuture() : initialized;
        // a start in progress finishes first, so the sends waiting for it are handed to Kafka before it closes
        starting.transform(ar -> producer == null ? Future.<Void>succeededFuture() : closeProducer())
          .onComplete(closed);
      }
      closed.future().onComplete(p);
    });
    return p.future();
  }

  // KafkaProducer.close waits for every record handed to it: the sends still waiting for the worker go first.
  private Future<Void> closeProducer() {
    ((VertxInternal) vertx).removeCloseHook(closeHook);
    long timeout = config.closeTimeoutMillis();
    return handedOver()
      .compose(v -> context.<Void>executeBlocking(() -> {
        producer.close(Duration.ofMillis(timeout));
        return null;
      }))
      .recover(e -> {
        LOG.warn("[kafka queue '{}'] producer close: {}", topic, e.toString());
        return Future.succeededFuture();
      })
      .map(v -> {
        int unfinished = unacknowledged.get();
        if (unfinished > 0) {
          LOG.warn("[kafka queue '{}'] producer closed with {} send(s) not acknowledged within {} ms; they fail",
            topic, unfinished, timeout);
        }
        return null;
      });
  }
}
