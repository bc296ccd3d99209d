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
import org.apache.kafka.clients.producer.BufferExhaustedException;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Sends to one topic through a byte-array {@link KafkaProducer}. A send completes when the broker acknowledged
 * the record ({@code acks=all} by default), with its partition and offset.
 *
 * <p>Records are handed to {@code KafkaProducer.send} on the producer's context, in the order they were sent,
 * and the acknowledgements come back through one {@link ContextInbox}, a context task per burst. {@code send}
 * blocks the calling thread while the topic's metadata is unknown or {@code buffer.memory} is full, up to
 * {@code max.block.ms}; here the client runs with {@code max.block.ms} 0, so a record it has no room for yet is
 * refused at once, and it waits in this producer's queue, with the records sent after it, and is offered again
 * (after a short timer, or as soon as an acknowledgement frees memory) until the user's {@code max.block.ms}
 * (default 60 s) has passed since it was sent; then its send fails. No thread ever blocks, and no record is
 * handed to a worker thread: the worker hop capped sends at about 0.75 of the raw client, and a thread of the
 * producer's own calling {@code send}, fed once per burst, did not raise the rate (BENCHMARKS.md).
 */
public final class KafkaTopicProducer implements Producer {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaTopicProducer.class);

  /** Kafka's default {@code max.block.ms}. */
  private static final long DEFAULT_MAX_BLOCK_MS = 60_000;
  /** Longest wait between two offers of a record the client had no room for. */
  private static final long MAX_RETRY_DELAY_MS = 50;

  private final Vertx vertx;
  private final String topic;
  private final KafkaClientConfig config;
  private final Context context;
  private final io.vertx.core.Closeable closeHook = completion -> close().onComplete(completion);

  private final ContextInbox acknowledgements;

  /**
   * The callback of one send's {@code KafkaProducer.send}: what completing the send needs, and no more, as the
   * client's thread reads it when the broker answers, long after the event loop made it. A send that the client
   * takes at once, the common case, makes no other object of this producer's.
   *
   * <p>The client reports a refusal for want of metadata or memory by calling the callback before {@code send}
   * returns, on the calling thread: that is kept as a refusal, to offer the record again; every other outcome
   * goes to the context. A record is handed to the client again only after a refusal, so at most one outcome
   * is ever on its way to the context.
   */
  private final class Acknowledgement<T> implements Callback {
    // the producer's, held here so that the client's thread reads no field of the producer, whose fields the loop
    // writes on every send: the line they share would travel between the two cores twice per send
    final ContextInbox inbox = acknowledgements;
    final Message message;
    final Promise<T> result;
    // what the Future completes with, from the broker's acknowledgement
    final Function<RecordMetadata, T> outcome;
    // the send timeout's timer: set before the record is first offered to the client, so the client's thread, which
    // reads it in onCompletion, sees it through the client's own locking
    long timer = -1;

    Acknowledgement(Message message, Promise<T> result, Function<RecordMetadata, T> outcome) {
      this.message = message;
      this.result = result;
      this.outcome = outcome;
    }

    @Override
    public void onCompletion(RecordMetadata md, Exception error) {
      // sendingThread is the client's thread only inside send; read stale, it is another thread or null
      if (error instanceof TimeoutException && Thread.currentThread() == sendingThread) {
        refusal = (TimeoutException) error;
        return;
      }
      // The outcome is made here, and travels with the Promise in an event that holds only what the loop needs to
      // complete the send: the loop then reads neither this object, which has left its core's caches by the time
      // the broker answers, nor a second cache line of a larger event (a miss each per send; BENCHMARKS.md,
      // twenty-second and twenty-third sessions). The outcome reads only md and the immutable message.
      Promise<T> promise = result;
      long sendTimer = timer;
      if (error != null) {
        SendException failure = failure(message, error);
        inbox.submit(() -> failed(promise, failure, sendTimer));
      } else {
        T value = outcome.apply(md);
        if (sendTimer == -1) {
          inbox.submit(() -> succeeded(promise, value));
        } else {
          inbox.submit(() -> succeeded(promise, value, sendTimer));
        }
      }
    }
  }

  /**
   * A send the client did not take at once: it waits for the producer to start or for room in the client, or has
   * a timeout of its own.
   */
  private static final class Outgoing {
    final ProducerRecord<byte[], byte[]> record;
    final Acknowledgement<?> acknowledgement;
    // when it started to wait (for the producer to start, or for room), for max.block.ms; the clock is read only
    // for a record that waits: reading it for every send was 4% of a producer's event loop
    long waitingSince = -1;
    boolean handedToKafka;
    TimeoutException lastRefusal;

    Outgoing(ProducerRecord<byte[], byte[]> record, Acknowledgement<?> acknowledgement) {
      this.record = record;
      this.acknowledgement = acknowledgement;
    }

    Promise<?> result() {
      return acknowledgement.result;
    }
  }

  // written and read on the context, inside KafkaProducer.send, and read by an acknowledgement's callback
  private Thread sendingThread;
  private TimeoutException refusal;

  // touched only on the context
  // sends accepted and neither acknowledged nor failed yet, for close()'s report
  private int unacknowledged;
  private final ArrayDeque<Runnable> waitingForInit = new ArrayDeque<>();
  private final ArrayDeque<Outgoing> waitingForRoom = new ArrayDeque<>();
  private long roomTimer = -1;
  private boolean offerAfterAcknowledgements;
  private long retryDelayMillis = 1;
  private long maxBlockMillis = DEFAULT_MAX_BLOCK_MS;
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
        Long userMaxBlock = maxBlockMillis(props);
        if (userMaxBlock != null) {
          props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "0");
        }
        KafkaProducer<byte[], byte[]> raw = new KafkaProducer<>(props, new ByteArraySerializer(),
          new ByteArraySerializer());
        try {
          // asks for the topic's metadata now, so that the first send finds it; with max.block.ms 0 it only asks
          raw.partitionsFor(topic);
        } catch (TimeoutException notYet) {
          // expected while the answer is on its way
        } catch (RuntimeException e) {
          LOG.debug("[kafka queue '{}'] early metadata request: {}", topic, e.toString());
        }
        return Map.entry(raw, userMaxBlock == null ? DEFAULT_MAX_BLOCK_MS : userMaxBlock);
      }))
      .map(started -> {
        producer = started.getKey();
        maxBlockMillis = started.getValue();
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

  /**
   * @return the {@code max.block.ms} the user configured (or Kafka's default), or null when it is not a number, in
   *     which case the client is left to refuse it with its own error
   */
  private static Long maxBlockMillis(Map<String, Object> props) {
    Object v = props.get(ProducerConfig.MAX_BLOCK_MS_CONFIG);
    if (v == null) {
      return DEFAULT_MAX_BLOCK_MS;
    }
    try {
      long millis = Long.parseLong(String.valueOf(v).trim());
      return millis < 0 ? null : millis;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  @Override
  public Future<SendResult> sendForResult(Message message, SendOptions options) {
    String queue = topic; // the outcome runs on the client's thread, which reads no field of this producer
    return submit(message, options, md -> new SendResult(Transports.KAFKA, queue, message.id(), md.partition(),
      md.hasOffset() ? md.offset() : -1L));
  }

  // One Future per send: sendForResult(...).mapEmpty() cost each send a SendResult, a second Future and its
  // listener on the event loop
  @Override
  public Future<Void> send(Message message, SendOptions options) {
    return submit(message, options, md -> null);
  }

  private <T> Future<T> submit(Message message, SendOptions options, Function<RecordMetadata, T> outcome) {
    if (closing) {
      return Future.failedFuture(new SendException(Transports.KAFKA, topic, message.id(), "producer is closed",
        null));
    }
    String key = options.key() != null ? options.key() : message.key();
    // made before the record, so that the record's objects lie between this Promise, which the loop writes when
    // the send completes, and the Outgoing, which the client's thread reads then: not on one cache line
    Promise<T> result = Promise.promise();
    ProducerRecord<byte[], byte[]> record;
    try {
      record = KafkaWire.record(topic, message, key, options.partition(), options.headers());
    } catch (RuntimeException e) {
      return Future.failedFuture(new SendException(Transports.KAFKA, topic, message.id(),
        "cannot build the record: " + e, e));
    }
    Acknowledgement<T> ack = new Acknowledgement<>(message, result, outcome);
    if (Vertx.currentContext() == context && producer != null && options.timeout() == null
        && waitingForRoom.isEmpty()) {
      // a send from the producer's own context once it started, the common case: no task to hand over, and
      // nothing more to make unless the client refuses the record
      unacknowledged++;
      TimeoutException refused = offer(record, ack);
      if (refused != null) {
        Outgoing o = new Outgoing(record, ack);
        o.lastRefusal = refused;
        waitToOffer(o);
      }
      return result.future();
    }
    Outgoing o = new Outgoing(record, ack);
    // Everything goes through the context, so sends made one after the other reach Kafka in that order.
    onContext(() -> {
      unacknowledged++;
      if (producer != null) {
        send(o, options);
        return;
      }
      o.waitingSince = System.nanoTime();
      waitingForInit.add(() -> {
        if (producer != null) {
          send(o, options);
        } else {
          Throwable cause = initialized == null ? null : initialized.cause();
          unacknowledged--;
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

  private void send(Outgoing o, SendOptions options) {
    Acknowledgement<?> ack = o.acknowledgement;
    if (options.timeout() != null) {
      long millis = Math.max(1, options.timeout().toMillis());
      ack.timer = vertx.setTimer(millis, id -> ack.result.tryFail(new SendException(Transports.KAFKA, topic,
        ack.message.id(), o.handedToKafka
          ? "the broker did not acknowledge within " + millis + " ms (the record may still be written later; "
            + "Kafka's own bound is delivery.timeout.ms)"
          : "not handed to the Kafka producer within " + millis + " ms (" + waitingFor(o) + "); it is not sent",
        o.lastRefusal)));
    }
    if (waitingForRoom.isEmpty() && handOver(o)) {
      return;
    }
    waitToOffer(o);
  }

  private void waitToOffer(Outgoing o) {
    if (o.waitingSince < 0) {
      o.waitingSince = System.nanoTime();
    }
    waitingForRoom.add(o);
    offerLater();
  }

  /** @return false if the client has no room for the record yet (topic metadata, buffer.memory) */
  private boolean handOver(Outgoing o) {
    TimeoutException refused = offer(o.record, o.acknowledgement);
    if (refused != null) {
      o.lastRefusal = refused;
      return false;
    }
    o.handedToKafka = true;
    return true;
  }

  /**
   * Offers a record to the client.
   *
   * @return the client's refusal for want of metadata or memory, or null when it took the record (or failed it)
   */
  private TimeoutException offer(ProducerRecord<byte[], byte[]> record, Acknowledgement<?> ack) {
    refusal = null;
    sendingThread = Thread.currentThread();
    try {
      producer.send(record, ack);
    } catch (RuntimeException e) {
      // what send throws instead of reporting to the callback (closed producer, interrupted, serializer)
      failed(ack.result, failure(ack.message, e), ack.timer);
      return null;
    } finally {
      sendingThread = null;
    }
    return refusal;
  }

  /** Offers the waiting records again, in order, until the client refuses one. */
  private void offerWaiting() {
    if (roomTimer != -1) {
      vertx.cancelTimer(roomTimer); // a no-op when it is this timer that fired
      roomTimer = -1;
    }
    offerAfterAcknowledgements = false;
    Outgoing o;
    while ((o = waitingForRoom.peek()) != null) {
      if (o.result().future().isComplete()) {
        // its send timed out while it waited: it was never handed to Kafka and is not sent
        waitingForRoom.poll();
        unacknowledged--;
        continue;
      }
      if (handOver(o)) {
        waitingForRoom.poll();
        continue;
      }
      long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - o.waitingSince);
      if (waitedMillis < maxBlockMillis) {
        offerLater();
        return;
      }
      waitingForRoom.poll();
      neverHandedOver(o, "not handed to the Kafka producer within max.block.ms=" + maxBlockMillis + " ms: "
        + waitingFor(o) + "; is " + config.bootstrapServers() + " reachable and the topic present?");
    }
    retryDelayMillis = 1;
    if (allHandedOver != null) {
      allHandedOver.complete();
      allHandedOver = null;
    }
  }

  private void offerLater() {
    if (roomTimer == -1) {
      roomTimer = vertx.setTimer(retryDelayMillis, id -> offerWaiting());
      retryDelayMillis = Math.min(MAX_RETRY_DELAY_MS, retryDelayMillis * 2);
    }
  }

  private static String waitingFor(Outgoing o) {
    if (o.lastRefusal instanceof BufferExhaustedException) {
      return "buffer.memory was full";
    }
    Throwable metadataError = o.lastRefusal == null ? null : o.lastRefusal.getCause();
    return "the topic's metadata was not available" + (metadataError == null ? "" : " (" + metadataError + ")");
  }

  private void neverHandedOver(Outgoing o, String why) {
    unacknowledged--;
    Acknowledgement<?> ack = o.acknowledgement;
    if (ack.timer != -1) {
      vertx.cancelTimer(ack.timer);
    }
    ack.result.tryFail(new SendException(Transports.KAFKA, topic, ack.message.id(), why, o.lastRefusal));
  }

  // the events of a send's outcome, on the context

  private <T> void succeeded(Promise<T> result, T value) {
    unacknowledged--;
    result.tryComplete(value);
    afterAcknowledgement();
  }

  private <T> void succeeded(Promise<T> result, T value, long timer) {
    vertx.cancelTimer(timer);
    succeeded(result, value);
  }

  private void failed(Promise<?> result, SendException failure, long timer) {
    unacknowledged--;
    if (timer != -1) {
      vertx.cancelTimer(timer);
    }
    result.tryFail(failure);
    afterAcknowledgement();
  }

  private SendException failure(Message message, Exception error) {
    return new SendException(Transports.KAFKA, topic, message.id(), describe(error), error);
  }

  private void afterAcknowledgement() {
    if (!waitingForRoom.isEmpty() && !offerAfterAcknowledgements) {
      // an acknowledged batch frees buffer.memory: offer the waiting records once this burst is done
      offerAfterAcknowledgements = true;
      if (roomTimer != -1) {
        vertx.cancelTimer(roomTimer);
        roomTimer = -1;
      }
      context.runOnContext(v -> offerWaiting());
    }
  }

  /** @return a Future completed once every send made so far has been handed to the Kafka producer or failed */
  private Future<Void> handedOver() {
    if (waitingForRoom.isEmpty()) {
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

  // KafkaProducer.close waits for every record handed to it: the records still waiting for room go first, for
  // up to the close timeout, then fail.
  private Future<Void> closeProducer() {
    ((VertxInternal) vertx).removeCloseHook(closeHook);
    long timeout = config.closeTimeoutMillis();
    long start = System.nanoTime();
    long giveUp = vertx.setTimer(timeout, id -> {
      Outgoing o;
      while ((o = waitingForRoom.poll()) != null) {
        neverHandedOver(o, "the producer closed before the record could be handed to it (" + waitingFor(o) + ")");
      }
      offerWaiting();
    });
    return handedOver()
      .compose(v -> {
        vertx.cancelTimer(giveUp);
        long left = Math.max(0, timeout - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        return context.<Void>executeBlocking(() -> {
          producer.close(Duration.ofMillis(left));
          return null;
        });
      })
      .recover(e -> {
        LOG.warn("[kafka queue '{}'] producer close: {}", topic, e.toString());
        return Future.succeededFuture();
      })
      .map(v -> {
        int unfinished = unacknowledged;
        if (unfinished > 0) {
          LOG.warn("[kafka queue '{}'] producer closed with {} send(s) not acknowledged within {} ms; they fail",
            topic, unfinished, timeout);
        }
        return null;
      });
  }
}
