package dev.streamtools.rabbitmq.impl;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import dev.streamtools.ConsumerLoop;
import dev.streamtools.FailurePolicy;
import dev.streamtools.Message;
import dev.streamtools.MessageHandler;
import dev.streamtools.RouteOptions;
import dev.streamtools.SendOptions;
import dev.streamtools.StreamtoolsException;
import dev.streamtools.Transports;
import dev.streamtools.spi.Bodies;
import dev.streamtools.spi.ContextInbox;
import dev.streamtools.spi.DeadLetters;
import dev.streamtools.spi.Delivery;
import dev.streamtools.spi.Dispatcher;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Consumes one queue on its own connection: prefetch = {@code maxInFlight}, manual acks, each delivery
 * handed to the shared {@link Dispatcher}, which decides; this class only maps its decisions to AMQP.
 *
 * <ul>
 *   <li>ack: {@code basic.ack} after the handler's Future succeeded.</li>
 *   <li>retry: after the backoff delay, the message is republished to the queue with {@code x-attempt} + 1
 *   (persistent, mandatory, confirmed) and only then is the original acked; the broker holds the message
 *   durably at every moment, and a crash between the two makes a duplicate, never a loss. The original keeps
 *   its prefetch slot while it waits, so failing messages slow intake instead of piling up in memory.</li>
 *   <li>dead letter: the message with the reason headers is published to the dead-letter queue, confirmed,
 *   then the original is acked.</li>
 *   <li>release (closing before the handler ran): {@code basic.nack} with requeue.</li>
 * </ul>
 *
 * <p>A lost connection: deliveries of the old connection can no longer be acked (the broker requeues them,
 * so they come again — at most a prefetch's worth of duplicates), the loop reconnects with backoff,
 * re-declares and consumes again. Each delivery remembers the channel it came on and is only ever settled
 * there.
 */
final class RabbitMqConsumerLoop implements ConsumerLoop {

  private static final Logger LOG = LoggerFactory.getLogger(RabbitMqConsumerLoop.class);
  private static final long FAILED_SETTLE_REQUEUE_DELAY_MS = 1000;
  /** An ack, nack or reject frame: header 7 bytes, class and method 4, delivery tag 8, flags 1, frame end 1. */
  private static final int SETTLE_FRAME_BYTES = 21;

  /** One {@code basic.consume} on one channel of one session. */
  private static final class Consuming {
    final RmqConnection.Session session;
    final Channel channel;
    volatile String tag;
    volatile boolean alive = true;
    // Deliveries not settled yet (handler running, retry waiting...), in delivery-tag order: every tag below
    // the oldest one is settled or being settled, so one ack with multiple=true may cover those.
    private RmqDelivery oldest;
    private RmqDelivery newest;
    // the highest tag the batch being built acks with multiple=true, 0 for none
    private long coverUpTo;

    Consuming(RmqConnection.Session session, Channel channel) {
      this.session = session;
      this.channel = channel;
    }

    boolean usable() {
      return alive && session.alive && channel.isOpen();
    }

    void delivered(RmqDelivery d) {
      d.older = newest;
      if (newest == null) {
        oldest = d;
      } else {
        newest.newer = d;
      }
      newest = d;
      d.unsettled = true;
    }

    void settling(RmqDelivery d) {
      if (!d.unsettled) {
        return;
      }
      d.unsettled = false;
      if (d.older == null) {
        oldest = d.newer;
      } else {
        d.older.newer = d.newer;
      }
      if (d.newer == null) {
        newest = d.older;
      } else {
        d.newer.older = d.older;
      }
      d.older = null;
      d.newer = null;
    }

    long oldestUnsettledTag() {
      return oldest == null ? Long.MAX_VALUE : oldest.tag;
    }
  }

  /** An ack or a release, from its request to its write. */
  private static final class Settle {
    final RmqDelivery delivery;
    final boolean ack;
    final Promise<Void> written = Promise.promise();
    // which of its batch's multiple=true acks covers it, -1 if written on its own
    int coverIndex = -1;

    Settle(RmqDelivery delivery, boolean ack) {
      this.delivery = delivery;
      this.ack = ack;
    }
  }

  /** The channel operations of one batch of settlements, run together. */
  private record SettleBatch(List<Settle> settles, List<Consuming> covered, long[] coverUpTo) {
  }

  /** What each operation of a {@link SettleBatch} raised, {@code null} where it succeeded. */
  private record SettleErrors(Throwable[] single, Throwable[] covers) {
  }

  private final Vertx vertx;
  private final Context context;
  // the channel's end, from whichever amqp-client thread notices it
  private final ContextInbox inbox;
  private final String queue;
  private final RmqSettings settings;
  private final RmqConnection connection;
  private final ConfirmPublisher publisher;
  private final Set<Long> retryTimers = new HashSet<>();
  private final Set<String> deadLetterQueues = new LinkedHashSet<>();
  // acks and releases requested in this turn of the context, written together at its end
  private List<Settle> toSettle = new ArrayList<>();
  private boolean flushScheduled;

  private Dispatcher dispatcher;
  private RouteOptions options;
  private Consuming consuming;
  private Future<Void> initFuture;
  private boolean started;
  private boolean closing;
  private Future<Void> closeFuture;
  private volatile boolean ready;

  RabbitMqConsumerLoop(Vertx vertx, String queue, JsonObject config) {
    this.vertx = vertx;
    this.queue = queue;
    this.settings = RmqSettings.from(config);
    this.context = vertx.getOrCreateContext();
    this.inbox = new ContextInbox(context);
    this.connection = new RmqConnection(vertx, context, settings, "consumer", queue, this::setUp, this::down);
    this.publisher = new ConfirmPublisher(vertx, connection, queue, settings.confirmWindow, settings.maxPendingBytes,
      settings.sendTimeoutMillis, false);
    deadLetterQueues.add(queue + FailurePolicy.DEAD_LETTER_SUFFIX);
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
  public Future<Void> start(MessageHandler handler, RouteOptions routeOptions) {
    Promise<Void> p = Promise.promise();
    onContext(() -> {
      if (started || closing) {
        p.fail(new IllegalStateException("rabbitmq consumer loop for queue '" + queue + "' is already "
          + (closing ? "closed" : "started")));
        return;
      }
      started = true;
      options = routeOptions;
      dispatcher = Dispatcher.create(context, Transports.RABBITMQ, queue, handler, routeOptions);
      String dlq = routeOptions.failurePolicy().deadLetterQueueFor(queue);
      boolean newDlq = deadLetterQueues.add(dlq);
      Future<Void> ready = doInit();
      if (newDlq) {
        ready = ready.compose(v -> declareDeadLetterQueue(dlq));
      }
      ready.compose(v -> {
        RmqConnection.Session s = connection.session();
        if (s == null) {
          // lost between init and now: the reconnect's set-up consumes
          return connection.connect();
        }
        return consuming != null ? Future.succeededFuture() : consume(s).recover(e -> {
          // the connection dropped under us: its replacement's set-up consumes, since we are started now
          return closing || connection.session() == s ? Future.failedFuture(e) : connection.connect();
        });
      }).onComplete(ar -> {
        if (ar.failed() && consuming == null && !closing) {
          started = false; // nothing consumes: start may be called again (after the broker is back)
        }
        p.handle(ar);
      });
    });
    return p.future();
  }

  @Override
  public boolean isReady() {
    return ready;
  }

  @Override
  public Future<Void> close() {
    Promise<Void> p = Promise.promise();
    onContext(() -> {
      if (closeFuture == null) {
        closeFuture = doClose();
      }
      closeFuture.onComplete(p);
    });
    return p.future();
  }

  private Future<Void> doInit() {
    if (initFuture == null || initFuture.failed()) {
      initFuture = connection.connect();
    }
    return initFuture;
  }

  private Future<Void> setUp(RmqConnection.Session session) {
    Future<Void> f = connection.<Void>blocking(() -> {
      Topology.declare(session.connection, settings, queue, deadLetterQueues);
      return null;
    }).compose(v -> publisher.attach(session));
    if (started && !closing) {
      f = f.compose(v -> consume(session));
    }
    return f;
  }

  private void down(Throwable cause) {
    ready = false;
    Consuming c = consuming;
    consuming = null;
    if (c != null) {
      c.alive = false;
    }
    publisher.detach(cause);
  }

  private Future<Void> declareDeadLetterQueue(String dlq) {
    RmqConnection.Session s = connection.session();
    if (s == null) {
      return Future.succeededFuture(); // declared by the next connection's set-up
    }
    return connection.blocking(() -> {
      Topology.declare(s.connection, settings, queue, Set.of(dlq));
      return null;
    });
  }

  private Future<Void> consume(RmqConnection.Session session) {
    int prefetch = options.maxInFlight();
    return connection.blocking(() -> {
      Channel ch = session.connection.createChannel();
      Consuming c = new Consuming(session, ch);
      ch.basicQos(prefetch);
      ch.addShutdownListener(sig -> inbox.submit(() -> onChannelDown(c, sig)));
      // amqp-client calls these on the context (RmqConnection runs its consumer dispatch there)
      c.tag = ch.basicConsume(queue, false, new DefaultConsumer(ch) {
        @Override
        public void handleDelivery(String consumerTag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
          try {
            onDelivery(c, envelope, properties, body);
          } catch (RuntimeException e) {
            // amqp-client would close the channel over it; the delivery stays unacked and comes again
            ((ContextInternal) context).reportException(e);
          }
        }

        @Override
        public void handleCancel(String consumerTag) {
          // the broker cancelled us: the queue was deleted, or a quorum queue lost its leader
          connection.recycle(c.session, "the broker cancelled the consumer of queue '" + queue + "'");
        }
      });
      return c;
    }).map(c -> {
      if (!c.usable()) {
        throw new StreamtoolsException(Transports.RABBITMQ, queue, "consumer channel closed while starting", null);
      }
      if (closing) {
        c.alive = false;
        RmqConnection.closeQuietly(c.channel);
        return null;
      }
      consuming = c;
      ready = true;
      return null;
    });
  }

  private void onChannelDown(Consuming c, ShutdownSignalException sig) {
    if (!c.alive) {
      return;
    }
    c.alive = false;
    if (consuming == c) {
      consuming = null;
      ready = false;
    }
    if (!sig.isHardError() && !sig.isInitiatedByApplication() && c.session.alive) {
      connection.recycle(c.session, "consumer channel closed: " + RmqConnection.describe(sig));
    }
  }

  private void onDelivery(Consuming c, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
    RmqDelivery d = new RmqDelivery(c, envelope.getDeliveryTag());
    // listed before anything may throw: a delivery that never reaches the dispatcher stays unacked, so no
    // multiple ack may cover it
    c.delivered(d);
    d.message = AmqpWire.message(queue, props, body);
    d.attempt = AmqpWire.attempt(props);
    dispatcher.dispatch(d);
  }

  /**
   * Writes the acks and releases requested in one turn of the context (amqp-client hands over a socket read's
   * deliveries in one turn, and a handler that completes at once acks in it) together: on the context when
   * that cannot block ({@link #settlesCannotBlock}), otherwise in one worker task, so a busy consumer costs at
   * most one hand-off per burst, not per message. The worker runs the tasks in order. The acks of a batch whose tags are
   * all below the channel's oldest unsettled delivery become one {@code basic.ack} with multiple=true, written
   * after the batch's releases: it covers only deliveries whose handler succeeded (or whose retry or dead
   * letter is confirmed), since every other one is either still unsettled, and so above it, or released
   * before it. Acks above an unsettled delivery go one by one, so a slow message never holds back the others'
   * acks (and with them the prefetch).
   */
  private void flushSettles() {
    List<Settle> batch = toSettle;
    toSettle = new ArrayList<>();
    flushScheduled = false;
    List<Consuming> covered = new ArrayList<>(1);
    for (Settle st : batch) {
      Consuming c = st.delivery.channel;
      if (st.ack && st.delivery.tag < c.oldestUnsettledTag()) {
        if (c.coverUpTo == 0) {
          covered.add(c);
        }
        c.coverUpTo = Math.max(c.coverUpTo, st.delivery.tag);
        st.coverIndex = covered.indexOf(c);
      }
    }
    long[] coverUpTo = new long[covered.size()];
    for (int i = 0; i < coverUpTo.length; i++) {
      coverUpTo[i] = covered.get(i).coverUpTo;
      covered.get(i).coverUpTo = 0;
    }
    SettleBatch b = new SettleBatch(batch, covered, coverUpTo);
    Future<SettleErrors> written = settlesCannotBlock() ? Future.succeededFuture(writeSettles(b))
      : connection.blocking(() -> writeSettles(b));
    written.onComplete(ar -> {
      for (int i = 0; i < batch.size(); i++) {
        Settle st = batch.get(i);
        Throwable error = ar.failed() ? ar.cause()
          : st.coverIndex >= 0 ? ar.result().covers()[st.coverIndex] : ar.result().single()[i];
        if (error == null) {
          st.written.complete();
        } else {
          st.written.fail(error);
        }
      }
    });
  }

  /**
   * Whether settlements written now on the context cannot wait for the socket. The broker sends at most the
   * prefetch ({@code maxInFlight}) deliveries it has not read a settlement for, so at most that many of the
   * settlements written are unread by it, even when it reads nothing (a resource alarm); with this loop's
   * unconfirmed publishes (retries, dead letters), that must stay within the bytes a producer publishes on the
   * context with ({@link ConfirmPublisher#PUBLISH_ON_CONTEXT_BYTES}, which the socket's send buffer holds).
   * Anything else on the socket is the worker's, so the worker must be idle: these writes then neither wait
   * behind its nor overtake a release it has yet to write. The handler's ack then leaves without a thread hand-off,
   * as a raw amqp-client consumer's does (BENCHMARKS.md, rabbitmq.rtt).
   */
  private boolean settlesCannotBlock() {
    RmqConnection.Session s = connection.session();
    return s != null && !s.blocked && connection.workerIdle()
      && (long) options.maxInFlight() * SETTLE_FRAME_BYTES + publisher.unconfirmedBytes()
        <= ConfirmPublisher.PUBLISH_ON_CONTEXT_BYTES;
  }

  // on the worker, or on the context when that cannot block
  private static SettleErrors writeSettles(SettleBatch b) {
    List<Settle> settles = b.settles();
    Throwable[] single = new Throwable[settles.size()];
    for (int i = 0; i < settles.size(); i++) {
      Settle st = settles.get(i);
      if (st.coverIndex >= 0) {
        continue;
      }
      RmqDelivery d = st.delivery;
      try {
        if (st.ack) {
          d.channel.channel.basicAck(d.tag, false);
        } else {
          d.channel.channel.basicNack(d.tag, false, true);
        }
      } catch (Exception e) {
        single[i] = e;
      }
    }
    Throwable[] covers = new Throwable[b.covered().size()];
    for (int i = 0; i < covers.length; i++) {
      try {
        b.covered().get(i).channel.basicAck(b.coverUpTo()[i], true);
      } catch (Exception e) {
        covers[i] = e;
      }
    }
    return new SettleErrors(single, covers);
  }

  private Future<Void> doClose() {
    closing = true;
    ready = false;
    Consuming c = consuming;
    Future<Void> cancelled = Future.succeededFuture();
    if (c != null && c.usable() && c.tag != null) {
      // stop deliveries first; those already on their way are released by the closed dispatcher
      cancelled = connection.<Void>blocking(() -> {
        c.channel.basicCancel(c.tag);
        return null;
      }).recover(e -> Future.succeededFuture());
    }
    Future<Integer> drained = cancelled.compose(v -> dispatcher == null ? Future.succeededFuture(0)
      : dispatcher.close(options.drainTimeout()));
    return drained
      .compose(left -> {
        // originals waiting for a retry stay unacked: closing the channel gives them back to the queue
        retryTimers.forEach(vertx::cancelTimer);
        retryTimers.clear();
        return publisher.close();
      })
      .transform(ar -> connection.close())
      .onComplete(ar -> LOG.debug("[rabbitmq queue '{}'] consumer loop closed", queue));
  }

  private void onContext(Runnable action) {
    if (Vertx.currentContext() == context) {
      action.run();
    } else {
      context.runOnContext(v -> action.run());
    }
  }

  /** A delivery settled only on the channel it arrived on. */
  private final class RmqDelivery implements Delivery {
    private final Consuming channel;
    private final long tag;
    private Message message;
    private int attempt;
    // its place in the channel's list of unsettled deliveries
    private RmqDelivery older;
    private RmqDelivery newer;
    private boolean unsettled;

    RmqDelivery(Consuming channel, long tag) {
      this.channel = channel;
      this.tag = tag;
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
      return settle(true);
    }

    @Override
    public Future<Void> release() {
      return settle(false);
    }

    @Override
    public Future<Void> retry(Duration delay, Throwable cause) {
      long[] id = new long[1];
      id[0] = vertx.setTimer(Math.max(1, delay.toMillis()), t -> {
        retryTimers.remove(id[0]);
        republishThenAck();
      });
      retryTimers.add(id[0]);
      return Future.succeededFuture();
    }

    private void republishThenAck() {
      if (!channel.usable()) {
        LOG.debug("[rabbitmq queue '{}'] retry of message {} skipped: its channel closed and the broker requeued it",
          queue, message.id());
        return;
      }
      AMQP.BasicProperties props = AmqpWire.properties(message, SendOptions.DEFAULTS, attempt + 1);
      publisher.publish("", queue, props, Bodies.array(message.body()), settings.sendTimeoutMillis, queue,
          channel.session)
        .compose(v -> ack())
        .onFailure(e -> {
          LOG.warn("[rabbitmq queue '{}'] retry {} of message {} could not be republished ({}); it stays in the queue "
            + "and comes again", queue, attempt + 1, message.id(), e.getMessage());
          requeueLater();
        });
    }

    @Override
    public Future<Void> deadLetter(String deadLetterQueue, String reason, Throwable cause) {
      if (!channel.usable()) {
        return Future.failedFuture(new StreamtoolsException(Transports.RABBITMQ, queue, "message " + message.id()
          + " not dead-lettered: its channel closed, the broker requeued it", null));
      }
      Message deadLetter = DeadLetters.of(message, Transports.RABBITMQ, queue, attempt, reason, cause);
      AMQP.BasicProperties props = AmqpWire.properties(deadLetter, SendOptions.DEFAULTS, 0);
      return publisher.publish("", deadLetterQueue, props, Bodies.array(deadLetter.body()), settings.sendTimeoutMillis,
          queue, channel.session)
        .compose(v -> ack())
        .onFailure(e -> requeueLater());
    }

    // The message stays unacked after a failed republish; giving it back after a pause lets it be tried again
    // without spinning on a broker that refuses.
    private void requeueLater() {
      if (!channel.usable()) {
        return;
      }
      vertx.setTimer(FAILED_SETTLE_REQUEUE_DELAY_MS, t -> release());
    }

    private Future<Void> settle(boolean ack) {
      if (!channel.usable()) {
        return Future.failedFuture(new StreamtoolsException(Transports.RABBITMQ, queue, "cannot "
          + (ack ? "ack" : "release") + " message " + message.id() + ": its channel closed; RabbitMQ redelivers it",
          null));
      }
      channel.settling(this);
      Settle st = new Settle(this, ack);
      toSettle.add(st);
      if (!flushScheduled) {
        flushScheduled = true;
        context.runOnContext(v -> flushSettles());
      }
      return st.written.future();
    }
  }
}
