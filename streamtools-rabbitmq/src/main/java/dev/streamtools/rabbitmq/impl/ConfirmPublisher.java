package dev.streamtools.rabbitmq.impl;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ShutdownSignalException;
import dev.streamtools.SendException;
import dev.streamtools.Transports;
import dev.streamtools.spi.ContextInbox;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;

/**
 * Publishes persistent, {@code mandatory} messages on one confirm-mode channel and completes each send on
 * the broker's confirm: pipelined, with at most {@code window} messages unconfirmed at once.
 *
 * <p>A send fails on a negative confirm (nack), on a {@code basic.return} (unroutable: RabbitMQ sends the
 * return before the ack of the same message, so the return marks the send and its ack then fails it), on the
 * channel or connection closing before the confirm (the broker may or may not have stored it: the caller may
 * resend), and when its timeout passes — while waiting for a connection, for a window slot, or for the
 * confirm. Sends made while disconnected wait (bounded by time and by {@code maxPendingBytes}) and go out on
 * the next connection. No send is left without an outcome.
 *
 * <p>Threading: every method runs on the context. Publishing runs in batches on the connection's worker; the
 * amqp-client confirm and return callbacks hop to the context. The map from sequence number to send is the one
 * structure both touch: the publisher adds an entry before it publishes, so a confirm always finds it.
 *
 * <p>A producer's publisher publishes on the context itself when that cannot block: the connection is not
 * blocked by the broker ({@code connection.blocked}) and, with this batch, at most
 * {@value #PUBLISH_ON_CONTEXT_BYTES} bytes (bodies, plus {@value #FRAME_BYTES_ESTIMATE} each for frames and
 * properties) are unconfirmed on its channel. A confirm means the broker has read the publish and everything
 * before it, so what the socket still holds is less than that, which fits its send buffer (16 KiB on Linux
 * before it grows, kernel overhead included) even before the broker's TCP stack acknowledges a byte: the write
 * cannot wait. The worker hop cost a round trip about 40 us, a tenth of it (BENCHMARKS.md). A consumer loop's
 * publisher (retries, dead letters) always publishes on the worker: it shares its connection with the loop's
 * acks, which are written on the context under a bound that counts its unconfirmed bytes
 * ({@link #unconfirmedBytes}).
 */
final class ConfirmPublisher {

  private static final Logger LOG = LoggerFactory.getLogger(ConfirmPublisher.class);

  /** Most unconfirmed bytes on a channel with which a batch is still published on the context. */
  static final int PUBLISH_ON_CONTEXT_BYTES = 8 * 1024;
  /** What a publish is counted for beyond its body: method and header frames, properties, user headers. */
  private static final int FRAME_BYTES_ESTIMATE = 1024;

  /** One send, from {@link #publish} to its outcome. */
  private static final class Outgoing {
    final String exchange;
    final String routingKey;
    final AMQP.BasicProperties props;
    final byte[] body;
    final String messageId;
    final String label;
    final RmqConnection.Session onlyOn;
    final Promise<Void> promise = Promise.promise();
    long timer = -1;
    long deadlineNanos;
    boolean published;
    String returned;
    boolean done;

    Outgoing(String exchange, String routingKey, AMQP.BasicProperties props, byte[] body, String label,
             RmqConnection.Session onlyOn) {
      this.exchange = exchange;
      this.routingKey = routingKey;
      this.props = props;
      this.body = body;
      this.messageId = props.getMessageId();
      this.label = label;
      this.onlyOn = onlyOn;
    }
  }

  /** The confirm-mode channel of one session, with what was published on it and not yet confirmed. */
  private static final class Attached {
    final RmqConnection.Session session;
    final Channel channel;
    final ConcurrentNavigableMap<Long, Outgoing> unconfirmed = new ConcurrentSkipListMap<>();
    volatile boolean alive = true;
    int inWindow;
    long bytesInWindow;

    Attached(RmqConnection.Session session, Channel channel) {
      this.session = session;
      this.channel = channel;
    }
  }

  private final Vertx vertx;
  // confirms, returns and the channel's end, in the order the broker sent them
  private final ContextInbox inbox;
  private final RmqConnection connection;
  private final String queue;
  private final int window;
  private final long maxPendingBytes;
  private final long defaultTimeoutMillis;
  private final ArrayDeque<Outgoing> pending = new ArrayDeque<>();
  // Sends with the default timeout, in send order, so their deadlines are in order too: one periodic sweep
  // times them out instead of a Vert.x timer per send (tens of thousands a second under load).
  private final ArrayDeque<Outgoing> deadlines = new ArrayDeque<>();
  private long sweeper = -1;

  private long pendingBytes;
  private Attached current;
  private boolean publishing;
  private final boolean publishOnContext;
  private int outstanding;
  private boolean closing;
  private Promise<Void> drained;
  private int peakInWindow;
  private Throwable attachFailure;

  /**
   * @param publishOnContext whether a publish that cannot block is made on the context (a producer's own
   *     connection); otherwise every publish runs on the connection's worker
   */
  ConfirmPublisher(Vertx vertx, RmqConnection connection, String queue, int window, long maxPendingBytes,
                   long defaultTimeoutMillis, boolean publishOnContext) {
    this.vertx = vertx;
    this.publishOnContext = publishOnContext;
    this.defaultTimeoutMillis = defaultTimeoutMillis;
    this.inbox = new ContextInbox(connection.context());
    this.connection = connection;
    this.queue = queue;
    this.window = window;
    this.maxPendingBytes = maxPendingBytes;
  }

  /**
   * Opens the confirm-mode channel on a new session and starts publishing what waits.
   *
   * @return a Future completed when the channel is ready
   */
  Future<Void> attach(RmqConnection.Session session) {
    return connection.blocking(() -> {
      Channel ch = session.connection.createChannel();
      ch.confirmSelect();
      Attached a = new Attached(session, ch);
      ch.addConfirmListener(
        (tag, multiple) -> inbox.submit(() -> onConfirm(a, tag, multiple, true)),
        (tag, multiple) -> inbox.submit(() -> onConfirm(a, tag, multiple, false)));
      ch.addReturnListener(r -> {
        String messageId = r.getProperties() == null ? null : r.getProperties().getMessageId();
        String why = r.getReplyCode() + " " + r.getReplyText() + " (exchange '" + r.getExchange() + "', routing key '"
          + r.getRoutingKey() + "')";
        inbox.submit(() -> onReturn(a, messageId, r.getExchange(), r.getRoutingKey(), why));
      });
      ch.addShutdownListener(sig -> inbox.submit(() -> onChannelDown(a, sig)));
      return a;
    }).map(a -> {
      if (!a.channel.isOpen() || !session.alive) {
        throw new IllegalStateException("channel closed while opening");
      }
      current = a;
      attachFailure = null;
      pump();
      return null;
    });
  }

  /** The session is gone: everything published on it and unconfirmed fails; what waits stays for the next. */
  void detach(Throwable cause) {
    attachFailure = cause;
    Attached a = current;
    if (a == null) {
      return;
    }
    current = null;
    a.alive = false;
    failUnconfirmed(a, cause);
    // retries and dead letters belong to deliveries of this session, which the broker now requeues
    Iterator<Outgoing> it = pending.iterator();
    while (it.hasNext()) {
      Outgoing o = it.next();
      if (o.onlyOn != null) {
        it.remove();
        pendingBytes -= o.body.length;
        complete(o, "the connection it belongs to is gone", cause);
      }
    }
  }

  /** Fails everything waiting to be published: the connection will not come (the first connect failed). */
  void failPending(Throwable cause) {
    Outgoing o;
    while ((o = pending.poll()) != null) {
      pendingBytes -= o.body.length;
      complete(o, "not connected: " + cause.getMessage(), cause);
    }
  }

  /**
   * @param label what the failure message names as the queue (the producer's queue, or the queue a retry or
   *     dead letter comes from)
   * @param onlyOn if set, publish on this session only: fail at once if it is not the attached one (a retry
   *     must not outlive the channel its original was delivered on)
   * @return a Future completed on the broker's confirm, failed with a {@link SendException}
   */
  Future<Void> publish(String exchange, String routingKey, AMQP.BasicProperties props, byte[] body,
                       long timeoutMillis, String label, RmqConnection.Session onlyOn) {
    Outgoing o = new Outgoing(exchange, routingKey, props, body, label, onlyOn);
    outstanding++;
    if (closing) {
      complete(o, "producer is closed", null);
    } else if (onlyOn != null && (current == null || current.session != onlyOn)) {
      complete(o, "the connection it belongs to is gone", null);
    } else if (pendingBytes + body.length > maxPendingBytes && !pending.isEmpty()) {
      complete(o, pendingBytes + " bytes already wait to be published (RMQ_MAX_PENDING_BYTES=" + maxPendingBytes
        + "); the broker is unreachable or slower than the senders", null);
    } else {
      pendingBytes += body.length;
      pending.add(o);
      if (timeoutMillis == defaultTimeoutMillis) {
        o.deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        deadlines.add(o);
        if (sweeper == -1) {
          long every = Math.max(10, Math.min(100, defaultTimeoutMillis / 10));
          sweeper = vertx.setPeriodic(every, id -> sweep());
        }
      } else {
        o.timer = vertx.setTimer(timeoutMillis, id -> {
          o.timer = -1;
          onTimeout(o, timeoutMillis);
        });
      }
      pump();
    }
    return o.promise.future();
  }

  /** @return the most messages that were unconfirmed at once on a channel (for tests and metrics) */
  int peakUnconfirmed() {
    return peakInWindow;
  }

  /** Stops taking sends and waits for every started one to complete or fail (each is bounded by its timeout). */
  Future<Void> close() {
    closing = true;
    if (drained == null) {
      drained = Promise.promise();
    }
    checkDrained();
    return drained.future();
  }

  private void pump() {
    while (true) {
      Attached a = current;
      if (a == null || publishing || pending.isEmpty()) {
        return;
      }
      int room = window - a.inWindow;
      if (room <= 0) {
        return;
      }
      List<Outgoing> batch = new ArrayList<>(Math.min(room, pending.size()));
      long bytes = 0;
      while (batch.size() < room && !pending.isEmpty()) {
        Outgoing o = pending.poll();
        pendingBytes -= o.body.length;
        if (o.done) {
          continue;
        }
        if (o.onlyOn != null && o.onlyOn != a.session) {
          complete(o, "the connection it belongs to is gone", null);
          continue;
        }
        batch.add(o);
        bytes += wireBytes(o);
      }
      if (batch.isEmpty()) {
        return;
      }
      a.inWindow += batch.size();
      a.bytesInWindow += bytes;
      peakInWindow = Math.max(peakInWindow, a.inWindow);
      if (publishOnContext && a.bytesInWindow <= PUBLISH_ON_CONTEXT_BYTES && !a.session.blocked) {
        afterBatch(a, batch, publishBatch(a, batch));
        continue;
      }
      publishing = true;
      connection.blocking(() -> publishBatch(a, batch)).onComplete(ar -> {
        publishing = false;
        BatchResult r = ar.succeeded() ? ar.result() : new BatchResult(0, ar.cause());
        afterBatch(a, batch, r);
        pump();
      });
      return;
    }
  }

  /** @return the bytes published on the current channel and not confirmed yet (bodies plus an estimate each) */
  long unconfirmedBytes() {
    Attached a = current;
    return a == null ? 0 : a.bytesInWindow;
  }

  private static long wireBytes(Outgoing o) {
    return o.body.length + FRAME_BYTES_ESTIMATE;
  }

  private static void leaveWindow(Attached a, Outgoing o) {
    a.inWindow--;
    a.bytesInWindow -= wireBytes(o);
  }

  private record BatchResult(int published, Throwable error) {
  }

  // on the worker
  private static BatchResult publishBatch(Attached a, List<Outgoing> batch) {
    int i = 0;
    try {
      for (; i < batch.size(); i++) {
        if (!a.alive) {
          break;
        }
        Outgoing o = batch.get(i);
        long seq = a.channel.getNextPublishSeqNo();
        a.unconfirmed.put(seq, o);
        a.channel.basicPublish(o.exchange, o.routingKey, true, o.props, o.body);
      }
      return new BatchResult(i, null);
    } catch (Exception e) {
      return new BatchResult(i, e);
    }
  }

  private void afterBatch(Attached a, List<Outgoing> batch, BatchResult r) {
    int firstUnsent = r.published;
    for (int i = 0; i < r.published; i++) {
      batch.get(i).published = true;
    }
    if (r.error != null && firstUnsent < batch.size()) {
      // the publish that threw consumed a sequence number the broker never saw: the channel's numbering no
      // longer matches the broker's, so the channel must go; this send fails with the error
      Outgoing failed = batch.get(firstUnsent);
      a.unconfirmed.values().remove(failed);
      leaveWindow(a, failed);
      complete(failed, "publish failed: " + RmqConnection.describe(r.error), r.error);
      firstUnsent++;
      connection.recycle(a.session, "publishing failed (" + RmqConnection.describe(r.error) + ")");
    }
    // not sent: back to the head of the queue, in order, for the next channel
    for (int i = batch.size() - 1; i >= firstUnsent; i--) {
      Outgoing o = batch.get(i);
      leaveWindow(a, o);
      if (!o.done) {
        pending.addFirst(o);
        pendingBytes += o.body.length;
      }
    }
    if (!a.alive) {
      // lost while this batch ran: entries added after detach() swept the map fail here
      failUnconfirmed(a, attachFailure);
    }
  }

  private void onConfirm(Attached a, long tag, boolean multiple, boolean ack) {
    if (!a.alive) {
      return;
    }
    if (multiple) {
      Iterator<Map.Entry<Long, Outgoing>> it = a.unconfirmed.headMap(tag, true).entrySet().iterator();
      while (it.hasNext()) {
        Outgoing o = it.next().getValue();
        it.remove();
        confirmed(a, o, ack);
      }
    } else {
      Outgoing o = a.unconfirmed.remove(tag);
      if (o != null) {
        confirmed(a, o, ack);
      }
    }
    pump();
  }

  private void confirmed(Attached a, Outgoing o, boolean ack) {
    leaveWindow(a, o);
    if (!ack) {
      complete(o, "the broker refused it (negative publisher confirm)", null);
    } else if (o.returned != null) {
      complete(o, "unroutable: returned by the broker with " + o.returned, null);
    } else {
      complete(o, null, null);
    }
  }

  private void onReturn(Attached a, String messageId, String exchange, String routingKey, String why) {
    // A return carries no sequence number. It comes before the ack of its own message, and returns come in
    // publish order: so the oldest unconfirmed, unmarked send with the same id, exchange and routing key is
    // the one returned (the destination matters: the same id may be in flight to a routable queue too).
    for (Outgoing o : a.unconfirmed.values()) {
      if (o.returned == null && Objects.equals(o.messageId, messageId) && o.exchange.equals(exchange)
        && o.routingKey.equals(routingKey)) {
        o.returned = why;
        return;
      }
    }
    LOG.warn("[rabbitmq queue '{}'] the broker returned message {} as unroutable ({}) but no send waits for it",
      queue, messageId, why);
  }

  private void onChannelDown(Attached a, ShutdownSignalException sig) {
    if (!a.alive) {
      return;
    }
    if (sig.isHardError() || sig.isInitiatedByApplication() || !a.session.alive) {
      return; // a closed connection is reported by its own listener; our own close needs nothing
    }
    // a channel error while the connection lives (publishing to a missing exchange): start afresh
    connection.recycle(a.session, "publishing channel closed: " + RmqConnection.describe(sig));
  }

  private void failUnconfirmed(Attached a, Throwable cause) {
    String why = "the connection closed before the broker confirmed it; it may or may not be stored"
      + (cause == null ? "" : " (" + cause.getMessage() + ")");
    Iterator<Outgoing> it = a.unconfirmed.values().iterator();
    while (it.hasNext()) {
      Outgoing o = it.next();
      it.remove();
      complete(o, why, cause);
    }
  }

  private void sweep() {
    long now = System.nanoTime();
    Outgoing head;
    while ((head = deadlines.peekFirst()) != null && (head.done || head.deadlineNanos - now <= 0)) {
      deadlines.pollFirst();
      onTimeout(head, defaultTimeoutMillis);
    }
    if (deadlines.isEmpty() && sweeper != -1) {
      vertx.cancelTimer(sweeper);
      sweeper = -1;
    }
  }

  private void onTimeout(Outgoing o, long timeoutMillis) {
    if (o.done) {
      return;
    }
    String why;
    if (o.published) {
      why = "no confirm from the broker within " + timeoutMillis + " ms (RMQ_SEND_TIMEOUT_MS)";
    } else if (current == null) {
      Throwable last = attachFailure != null ? attachFailure : connection.lastError();
      why = "not connected to RabbitMQ within " + timeoutMillis + " ms (RMQ_SEND_TIMEOUT_MS)"
        + (last == null ? "" : "; last error: " + last.getMessage());
    } else {
      why = "the confirm window (RMQ_CONFIRM_WINDOW=" + window + ") stayed full for " + timeoutMillis + " ms";
    }
    complete(o, why, null);
    // drop finished sends from the head now, so an outage does not keep their bodies
    while (!pending.isEmpty() && pending.peek().done) {
      pendingBytes -= pending.poll().body.length;
    }
  }

  private void complete(Outgoing o, String failure, Throwable cause) {
    if (o.done) {
      return;
    }
    o.done = true;
    if (o.timer != -1) {
      vertx.cancelTimer(o.timer);
      o.timer = -1;
    }
    outstanding--;
    while (!deadlines.isEmpty() && deadlines.peekFirst().done) {
      deadlines.pollFirst();
    }
    if (failure == null) {
      o.promise.complete();
    } else {
      o.promise.fail(new SendException(Transports.RABBITMQ, o.label, o.messageId, failure, cause));
    }
    checkDrained();
  }

  private void checkDrained() {
    if (drained != null && outstanding == 0) {
      drained.tryComplete();
    }
  }
}
