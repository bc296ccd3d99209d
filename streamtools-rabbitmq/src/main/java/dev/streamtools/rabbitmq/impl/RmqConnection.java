package dev.streamtools.rabbitmq.impl;

import com.rabbitmq.client.AuthenticationFailureException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.PossibleAuthenticationFailureException;
import com.rabbitmq.client.ShutdownSignalException;
import dev.streamtools.StreamtoolsException;
import dev.streamtools.Transports;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.ConnectException;
import java.net.UnknownHostException;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One AMQP connection of one producer or consumer loop, kept alive: it connects, lets its owner set up
 * channels and topology, and after an unexpected loss reconnects with exponential backoff and sets up again,
 * until closed.
 *
 * <p>Why amqp-client directly and not {@code io.vertx.rabbitmq.RabbitMQClient} (vertx-rabbitmq-client 5.0.8,
 * which brings this amqp-client): that client has no channel access and publishes without the
 * {@code mandatory} flag or a return listener, so an unroutable message would be confirmed and lost; its
 * confirm listener silently drops confirmations beyond its queue size; its {@code RabbitMQPublisher} clears
 * its pending confirms on reconnect, leaving those sends' Futures never completed (its maintainers note it
 * "would be much better done with a channel API, but we don't have that yet", vertx-rabbitmq-client#136);
 * its consumer drops deliveries beyond its internal queue size; after its reconnect, basicQos is not
 * re-applied and acks of old delivery tags close the new channel (vertx-rabbitmq-client#135). Every one of
 * those breaks a guarantee of this transport. So this class does what that client does internally — blocking
 * amqp-client calls on a Vert.x worker — and keeps what it lacks: one channel per purpose, a generation per
 * connection so nothing is ever acked or confirmed across connections, and a reconnect that re-declares and
 * re-consumes before it reports the connection up.
 *
 * <p>Threading: every method is called on {@link #context()}, and every callback and Future completes there.
 * Blocking amqp-client calls (connect, declare, publish, ack — a socket write can block under TCP or broker
 * flow control) run in order on one worker thread of this connection. The exceptions are writes that cannot
 * block, made on the context: a producer's publish ({@link ConfirmPublisher}) and, while the worker is idle
 * ({@link #workerIdle}), a consumer loop's acks ({@link RabbitMqConsumerLoop}).
 */
final class RmqConnection {

  private static final Logger LOG = LoggerFactory.getLogger(RmqConnection.class);
  private static final AtomicLong IDS = new AtomicLong();

  /** One live connection; replaced, never reused, after a loss. */
  static final class Session {
    final int generation;
    final Connection connection;
    volatile boolean alive = true;
    /** The broker sent {@code connection.blocked} (a resource alarm) and no {@code connection.unblocked} since. */
    volatile boolean blocked;
    boolean downNotified;

    Session(int generation, Connection connection) {
      this.generation = generation;
      this.connection = connection;
    }
  }

  /**
   * Runs amqp-client's consumer callbacks on the context: a delivery goes from the connection's I/O thread
   * straight to the event loop, instead of through a dispatch thread and then a hop to the event loop. The
   * callbacks must not block, and do not: they hand the delivery to the dispatcher. amqp-client keeps them
   * ordered per channel (one block of deliveries at a time), and only calls {@link #execute}.
   */
  private static final class ContextExecutor extends AbstractExecutorService {
    private final Context context;

    ContextExecutor(Context context) {
      this.context = context;
    }

    @Override
    public void execute(Runnable command) {
      context.runOnContext(v -> command.run());
    }

    // amqp-client shuts down only the executors it created itself
    @Override
    public void shutdown() {
    }

    @Override
    public List<Runnable> shutdownNow() {
      return List.of();
    }

    @Override
    public boolean isShutdown() {
      return false;
    }

    @Override
    public boolean isTerminated() {
      return false;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      return false;
    }
  }

  private final Vertx vertx;
  private final Context context;
  private final RmqSettings settings;
  private final String queue;
  private final String name;
  private final ConnectionFactory factory;
  private final WorkerExecutor worker;
  private final ExecutorService dispatch;
  private final Function<Session, Future<Void>> setup;
  private final Consumer<Throwable> onDown;

  private Session session;
  // submitted to the worker and not completed yet
  private int blockingCalls;
  private Promise<Void> connecting;
  private boolean everUp;
  private boolean closed;
  private Future<Void> closeFuture;
  private long retryTimer = -1;
  private int failures;
  private int generation;
  private Throwable lastError;

  /**
   * @param role {@code producer} or {@code consumer}, for the connection name and logs
   * @param setup called after each connect with the new session: open channels, declare, consume; the
   *     connection counts as up when it succeeds, and is dropped and retried when it fails
   * @param onDown called when a connection is lost after its set-up began (the owner may have opened
   *     channels on it), once per connection, with the cause
   */
  RmqConnection(Vertx vertx, Context context, RmqSettings settings, String role, String queue,
                Function<Session, Future<Void>> setup, Consumer<Throwable> onDown) {
    this.vertx = vertx;
    this.context = context;
    this.settings = settings;
    this.queue = queue;
    this.name = settings.connectionName + " " + role + " " + queue;
    this.factory = ConnectionFactories.create(settings);
    this.setup = setup;
    this.onDown = onDown;
    // One thread, ordered: amqp-client channels are not meant for concurrent publishing, and acks must not
    // overtake the basicCancel or close that precedes them. Long max-execute time: a publish blocked by
    // broker flow control is expected to wait, not to be reported as a blocked thread.
    this.dispatch = new ContextExecutor(context);
    this.worker = vertx.createSharedWorkerExecutor("streamtools-rmq-" + IDS.incrementAndGet() + "-" + queue, 1, 10,
      TimeUnit.MINUTES);
  }

  Context context() {
    return context;
  }

  /** @return the live session, or {@code null} while connecting or down */
  Session session() {
    return session;
  }

  boolean isUp() {
    return session != null && session.alive;
  }

  /** @return the last connection failure, or {@code null} */
  Throwable lastError() {
    return lastError;
  }

  /**
   * Connects if not connected. Before the first successful connection a failure fails the Future (a wrong
   * host or password should stop a service from starting, not retry silently); after it, losses are retried
   * in the background until {@link #close()}, and this Future waits for the next connection.
   *
   * @return a Future completed when the connection is up and set up
   */
  Future<Void> connect() {
    if (closed) {
      return Future.failedFuture(new StreamtoolsException(Transports.RABBITMQ, queue, "connection is closed", null));
    }
    if (isUp()) {
      return Future.succeededFuture();
    }
    if (connecting == null) {
      connecting = Promise.promise();
      attempt();
    }
    return connecting.future();
  }

  /**
   * Runs a blocking amqp-client call on this connection's worker, after every call submitted before it.
   *
   * @return its result, on the context
   */
  <T> Future<T> blocking(Callable<T> call) {
    blockingCalls++;
    return worker.<T>executeBlocking(call, true).andThen(ar -> blockingCalls--);
  }

  /**
   * @return whether every blocking call submitted on this connection has completed: a write made on the
   *     context now neither waits for the socket behind one nor overtakes one
   */
  boolean workerIdle() {
    return blockingCalls == 0;
  }

  /**
   * Drops a session whose channel failed while its connection stayed open (a channel error, a consumer
   * cancelled by the broker): aborting the connection runs the same path as a lost connection, so the owner
   * sets everything up again on a fresh one.
   */
  void recycle(Session s, String why) {
    if (!s.alive || closed || !s.connection.isOpen()) {
      return; // a closed connection reports itself through its shutdown listener
    }
    LOG.warn("[rabbitmq queue '{}'] {}; reconnecting", queue, why);
    blocking(() -> {
      s.connection.abort(1000);
      return null;
    });
  }

  /**
   * Closes the connection after every operation already submitted; unacknowledged deliveries go back to
   * their queue. Idempotent.
   */
  Future<Void> close() {
    if (closeFuture != null) {
      return closeFuture;
    }
    closed = true;
    if (retryTimer != -1) {
      vertx.cancelTimer(retryTimer);
      retryTimer = -1;
    }
    if (connecting != null) {
      Promise<Void> p = connecting;
      connecting = null;
      p.tryFail(new StreamtoolsException(Transports.RABBITMQ, queue, "connection closed while connecting", null));
    }
    Session s = session;
    session = null;
    Future<Void> done = Future.succeededFuture();
    if (s != null) {
      s.alive = false;
      done = blocking(() -> {
        try {
          s.connection.close(settings.connectTimeoutMillis);
        } catch (Exception e) {
          s.connection.abort(1000);
        }
        return null;
      });
    }
    closeFuture = done.transform(ar -> worker.close());
    return closeFuture;
  }

  private void attempt() {
    blocking(() -> factory.newConnection(dispatch, name)).onComplete(ar -> {
      if (ar.failed()) {
        failed(describe(ar.cause()), ar.cause());
        return;
      }
      Connection c = ar.result();
      if (closed) {
        abortQuietly(c);
        return;
      }
      Session s = new Session(++generation, c);
      c.addShutdownListener(sig -> context.runOnContext(v -> lost(s, sig)));
      c.addBlockedListener(reason -> s.blocked = true, () -> s.blocked = false);
      if (!c.isOpen()) {
        lost(s, c.getCloseReason());
      }
      Future<Void> ready;
      try {
        ready = setup.apply(s);
      } catch (RuntimeException e) {
        ready = Future.failedFuture(e);
      }
      ready.onComplete(sr -> {
        if (sr.succeeded() && s.alive && !closed) {
          session = s;
          if (everUp) {
            LOG.info("[rabbitmq queue '{}'] reconnected to {} after {} failed attempt(s)", queue, settings.endpoint(),
              failures);
          } else {
            LOG.debug("[rabbitmq queue '{}'] connected to {}", queue, settings.endpoint());
          }
          everUp = true;
          failures = 0;
          lastError = null;
          Promise<Void> p = connecting;
          connecting = null;
          if (p != null) {
            p.tryComplete();
          }
          return;
        }
        s.alive = false;
        abortQuietly(c);
        if (closed) {
          return;
        }
        Throwable cause = sr.failed() ? sr.cause()
          : new StreamtoolsException(Transports.RABBITMQ, queue, "connection lost while setting up", null);
        notifyDown(s, cause);
        failed(cause.getMessage(), cause);
      });
    });
  }

  // Not on this connection's worker: close() may have shut it down while this connection was being opened.
  private void abortQuietly(Connection c) {
    vertx.executeBlocking(() -> {
      c.abort(1000);
      return null;
    }, false);
  }

  private void failed(String reason, Throwable cause) {
    if (closed) {
      return;
    }
    lastError = cause instanceof StreamtoolsException ? cause
      : new StreamtoolsException(Transports.RABBITMQ, queue, "cannot connect to RabbitMQ at " + settings.endpoint()
        + ": " + reason, cause);
    if (!everUp) {
      LOG.warn("[rabbitmq queue '{}'] cannot connect to {}: {}", queue, settings.endpoint(), reason);
      Promise<Void> p = connecting;
      connecting = null;
      if (p != null) {
        p.tryFail(lastError);
      }
      return;
    }
    failures++;
    long delay = backoff(failures);
    LOG.warn("[rabbitmq queue '{}'] reconnect attempt {} to {} failed ({}); next in {} ms", queue, failures,
      settings.endpoint(), reason, delay);
    retryTimer = vertx.setTimer(delay, id -> {
      retryTimer = -1;
      if (!closed) {
        attempt();
      }
    });
  }

  private void lost(Session s, ShutdownSignalException sig) {
    if (!s.alive) {
      return;
    }
    s.alive = false;
    boolean wasUp = session == s;
    if (wasUp) {
      session = null;
    }
    if (closed) {
      return;
    }
    String reason = describe(sig);
    StreamtoolsException cause = new StreamtoolsException(Transports.RABBITMQ, queue, "connection to RabbitMQ lost: "
      + reason, sig);
    notifyDown(s, cause);
    if (wasUp) {
      LOG.warn("[rabbitmq queue '{}'] connection to {} lost ({}); reconnecting", queue, settings.endpoint(), reason);
      lastError = cause;
      if (connecting == null) {
        connecting = Promise.promise();
        failures = 0;
        retryTimer = vertx.setTimer(backoff(1), id -> {
          retryTimer = -1;
          if (!closed) {
            attempt();
          }
        });
      }
    }
    // a session lost during its set-up is retried where its set-up completes
  }

  private void notifyDown(Session s, Throwable cause) {
    if (s.downNotified) {
      return;
    }
    s.downNotified = true;
    try {
      onDown.accept(cause);
    } catch (RuntimeException e) {
      LOG.error("[rabbitmq queue '{}'] connection-lost handler failed", queue, e);
    }
  }

  private long backoff(int failure) {
    double d = settings.reconnectInitialMillis * Math.pow(2, Math.min(20, failure - 1));
    long capped = (long) Math.min(d, settings.reconnectMaxMillis);
    // jitter, so the many connections a broker restart drops do not all come back in the same instant
    return Math.max(1, (long) (capped * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble())));
  }

  /**
   * @return a short reason for a connection failure that names neither user nor password (amqp-client's
   *     messages do not either; the exception class says the rest)
   */
  static String describe(Throwable t) {
    if (t instanceof AuthenticationFailureException || t instanceof PossibleAuthenticationFailureException) {
      return "login refused for the configured RMQ_USER/RMQ_PASS (ACCESS_REFUSED)";
    }
    if (t instanceof ConnectException) {
      return "connection refused";
    }
    if (t instanceof UnknownHostException) {
      return "unknown host";
    }
    if (t instanceof TimeoutException || t instanceof java.net.SocketTimeoutException) {
      return "timed out";
    }
    if (t instanceof ShutdownSignalException) {
      ShutdownSignalException sse = (ShutdownSignalException) t;
      Object reason = sse.getReason();
      if (reason instanceof com.rabbitmq.client.AMQP.Connection.Close) {
        com.rabbitmq.client.AMQP.Connection.Close c = (com.rabbitmq.client.AMQP.Connection.Close) reason;
        return "closed by the broker: " + c.getReplyCode() + " " + c.getReplyText();
      }
      if (reason instanceof com.rabbitmq.client.AMQP.Channel.Close) {
        com.rabbitmq.client.AMQP.Channel.Close c = (com.rabbitmq.client.AMQP.Channel.Close) reason;
        return "channel closed by the broker: " + c.getReplyCode() + " " + c.getReplyText();
      }
      Throwable cause = sse.getCause();
      return cause != null ? "connection failed: " + simple(cause) : "connection shut down";
    }
    if (t instanceof java.io.IOException && t.getMessage() == null && t.getCause() != null) {
      return describe(t.getCause());
    }
    return t == null ? "unknown" : simple(t);
  }

  private static String simple(Throwable t) {
    if (t instanceof java.io.EOFException) {
      return "the broker closed the socket";
    }
    String m = t.getMessage();
    return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  /** Closes a temporary channel, whatever state a broker error left it in. */
  static void closeQuietly(Channel ch) {
    if (ch == null) {
      return;
    }
    try {
      if (ch.isOpen()) {
        ch.close();
      }
    } catch (Exception ignored) {
      // already closed by the broker, which is why it is being closed
    }
  }
}
