package dev.streamtools.kafka.impl;

import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.SendException;
import dev.streamtools.SendOptions;
import dev.streamtools.SendResult;
import dev.streamtools.Transports;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.kafka.client.producer.KafkaWriteStream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sends to one topic through a vertx-kafka-client {@link KafkaWriteStream} over a byte-array
 * {@link KafkaProducer}. A send completes when the broker acknowledged the record ({@code acks=all} by
 * default), with its partition and offset.
 */
public final class KafkaTopicProducer implements Producer {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaTopicProducer.class);

  private final Vertx vertx;
  private final String topic;
  private final KafkaClientConfig config;
  private final Context context;
  private final AtomicInteger unacknowledged = new AtomicInteger();
  private final io.vertx.core.Closeable closeHook = completion -> close().onComplete(completion);

  // touched only on the context
  private final ArrayDeque<Runnable> waitingForInit = new ArrayDeque<>();
  private Future<Void> initialized;
  private KafkaWriteStream<byte[], byte[]> stream;
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
        // created on our context, so the stream completes sends here
        stream = KafkaWriteStream.create(vertx, raw);
        // each send's Future reports its failure; without a handler the stream would also log every one
        // as an unhandled exception
        stream.exceptionHandler(e -> LOG.debug("[kafka queue '{}'] send failed: {}", topic, e.toString()));
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
    Promise<SendResult> result = Promise.promise();
    String key = options.key() != null ? options.key() : message.key();
    ProducerRecord<byte[], byte[]> record;
    try {
      record = KafkaWire.record(topic, message, key, options.partition(), options.headers());
    } catch (RuntimeException e) {
      return Future.failedFuture(new SendException(Transports.KAFKA, topic, message.id(),
        "cannot build the record: " + e, e));
    }
    unacknowledged.incrementAndGet();
    // Everything goes through the context, so sends made one after the other reach Kafka in that order.
    onContext(() -> {
      if (stream != null) {
        send(message, record, options, result);
        return;
      }
      waitingForInit.add(() -> {
        if (stream != null) {
          send(message, record, options, result);
        } else {
          Throwable cause = initialized == null ? null : initialized.cause();
          unacknowledged.decrementAndGet();
          result.tryFail(new SendException(Transports.KAFKA, topic, message.id(), "producer could not start: "
            + (cause == null ? "closed" : cause.getMessage()), cause));
        }
      });
      if (closing && initialized == null) {
        waitingForInit.poll().run();
      } else {
        startOnContext();
      }
    });
    return result.future();
  }

  private void onContext(Runnable action) {
    if (Vertx.currentContext() == context) {
      action.run();
    } else {
      context.runOnContext(v -> action.run());
    }
  }

  private void send(Message message, ProducerRecord<byte[], byte[]> record, SendOptions options,
                    Promise<SendResult> result) {
    Future<RecordMetadata> sent = stream.send(record);
    if (options.timeout() != null) {
      long millis = Math.max(1, options.timeout().toMillis());
      long timer = vertx.setTimer(millis, id -> result.tryFail(new SendException(Transports.KAFKA, topic,
        message.id(), "the broker did not acknowledge within " + millis + " ms (the record may still be written "
          + "later; Kafka's own bound is delivery.timeout.ms)", null)));
      sent.onComplete(ar -> vertx.cancelTimer(timer));
    }
    sent.onComplete(ar -> {
      unacknowledged.decrementAndGet();
      if (ar.succeeded()) {
        RecordMetadata md = ar.result();
        result.tryComplete(new SendResult(Transports.KAFKA, topic, message.id(), md.partition(),
          md.hasOffset() ? md.offset() : -1L));
      } else {
        result.tryFail(new SendException(Transports.KAFKA, topic, message.id(), describe(ar.cause()), ar.cause()));
      }
    });
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
        starting.transform(ar -> stream == null ? Future.<Void>succeededFuture() : closeStream(stream))
          .onComplete(closed);
      }
      closed.future().onComplete(p);
    });
    return p.future();
  }

  // KafkaProducer.close waits for every record handed to it; sends still queued on the stream's worker are
  // handed over first because the worker runs tasks in order.
  private Future<Void> closeStream(KafkaWriteStream<byte[], byte[]> s) {
    ((VertxInternal) vertx).removeCloseHook(closeHook);
    return s.close(config.closeTimeoutMillis())
      .recover(e -> {
        LOG.warn("[kafka queue '{}'] producer close: {}", topic, e.toString());
        return Future.succeededFuture();
      })
      .map(v -> {
        int unfinished = unacknowledged.get();
        if (unfinished > 0) {
          LOG.warn("[kafka queue '{}'] producer closed with {} send(s) not acknowledged within {} ms; they fail",
            topic, unfinished, config.closeTimeoutMillis());
        }
        return null;
      });
  }
}
