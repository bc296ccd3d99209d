package dev.streamtools.http.impl;

import dev.streamtools.ConsumerLoop;
import dev.streamtools.HandlerTimeoutException;
import dev.streamtools.Message;
import dev.streamtools.MessageDecodeException;
import dev.streamtools.MessageHandler;
import dev.streamtools.RouteOptions;
import dev.streamtools.StreamtoolsException;
import dev.streamtools.Transports;
import dev.streamtools.http.HttpSettings;
import dev.streamtools.spi.Delivery;
import dev.streamtools.spi.Dispatcher;
import dev.streamtools.spi.Settings;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Serves one queue at the path {@code /<queue>} of the shared server of its host and port. Each request is
 * a delivery held open until the dispatcher settles it, so the caller learns the outcome: ack = 204, retry =
 * re-dispatch in process after the backoff (the caller keeps waiting), dead letter = 500 (400 when
 * undecodable), release = 503.
 *
 * <p>Requests are admitted up to {@code maxInFlight + maxPending} at once (counting those whose body is
 * still being read and those waiting for a retry); beyond that they are answered 503 before their body is
 * read, which bounds memory by that count times the body limit.
 */
final class HttpConsumerLoop implements ConsumerLoop {

  private static final Logger LOG = LoggerFactory.getLogger(HttpConsumerLoop.class);
  private static final String RETRY_AFTER_SECONDS = "1";
  private static final long REFUSAL_WARN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final Vertx vertx;
  private final String queue;
  private final String host;
  private final int port;
  private final long bodyLimit;
  private final String path;
  private final AtomicInteger admitted = new AtomicInteger();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong lastRefusalWarning = new AtomicLong();
  private final Set<HttpDelivery> open = ConcurrentHashMap.newKeySet();

  private Context context; // guarded by this
  private volatile RouteOptions options; // set once in start, before the path is mounted
  private volatile Dispatcher dispatcher; // set once in start, before the path is mounted
  private ServerRegistry.Handle server; // guarded by this
  private Future<Void> started; // guarded by this
  private Future<Void> closed; // guarded by this
  private volatile boolean ready;
  private volatile boolean closing;

  HttpConsumerLoop(Vertx vertx, String queue, JsonObject config) {
    Settings settings = Settings.of(config);
    this.vertx = vertx;
    this.queue = queue;
    this.host = settings.string(HttpSettings.HOST, HttpSettings.DEFAULT_BIND_HOST);
    this.port = settings.integer(HttpSettings.PORT, HttpSettings.DEFAULT_PORT);
    this.bodyLimit = settings.integer(HttpSettings.BODY_LIMIT, HttpSettings.DEFAULT_BODY_LIMIT);
    this.path = HttpWire.path(queue);
  }

  @Override
  public String transport() {
    return Transports.HTTP;
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
    if (started != null) {
      return Future.failedFuture(new IllegalStateException("HTTP consumer loop for queue '" + queue
        + "' is already started"));
    }
    if (closed != null) {
      return Future.failedFuture(new IllegalStateException("HTTP consumer loop for queue '" + queue
        + "' is closed"));
    }
    this.options = options == null ? RouteOptions.DEFAULTS : options;
    this.context = vertx.getOrCreateContext();
    this.dispatcher = Dispatcher.create(context, Transports.HTTP, queue, handler, this.options);
    started = ServerRegistry.acquire(vertx, host, port)
      .recover(err -> Future.failedFuture(new StreamtoolsException(Transports.HTTP, queue, "cannot listen on "
        + host + ":" + port + " (" + HttpSettings.HOST + ", " + HttpSettings.PORT + "): " + err.getMessage(), err)))
      .compose(this::mount);
    return started;
  }

  private synchronized Future<Void> mount(ServerRegistry.Handle handle) {
    String method = options.method();
    if (closed != null) {
      handle.release();
      return Future.failedFuture(new IllegalStateException("HTTP consumer loop for queue '" + queue
        + "' was closed while starting"));
    }
    if (!handle.mountQueue(path, HttpMethod.valueOf(method), this::onRequest)) {
      handle.release();
      return Future.failedFuture(new IllegalStateException("[http queue '" + queue + "'] another consumer loop "
        + "already serves " + path + " on " + host + ":" + handle.actualPort()));
    }
    server = handle;
    ready = true;
    LOG.info("[http queue '{}'] serving {} {} on {}:{} ({})", queue, method, path, host, handle.actualPort(),
      options);
    return Future.succeededFuture();
  }

  @Override
  public boolean isReady() {
    return ready;
  }

  /**
   * Admits the request or refuses it before its body is read, then reads the body itself. Not vertx-web's
   * {@code BodyHandler}: that one pauses the request and resumes it on a later event-loop turn; without it the
   * one-request-at-a-time rate went from 0.77x to 0.88x of raw Vert.x's (BENCHMARKS.md, http.rtt).
   */
  private void onRequest(HttpServerRequest request) {
    if (closing) {
      refuseClosing(request);
      return;
    }
    RouteOptions o = options;
    int limit = o.maxInFlight() + o.maxPending();
    if (admitted.incrementAndGet() > limit) {
      admitted.decrementAndGet();
      logRefusal(limit, o);
      request.response().putHeader("Retry-After", RETRY_AFTER_SECONDS);
      HttpErrors.send(request.response(), 503, "queue '" + queue + "' is busy: " + limit
        + " requests are already waiting for its handler; retry later", null, request.getHeader(
        HttpWireNames.MESSAGE_ID));
      return;
    }
    new Exchange(request);
    if (request.method() == HttpMethod.GET) {
      onBody(request, null);
      return;
    }
    RequestBody.read(request, bodyLimit, body -> onBody(request, body), refusal -> refuseBody(request, refusal));
  }

  /** Frees the request's admission slot exactly once, whatever ends the exchange: answer, error or hang-up. */
  private final class Exchange implements Handler<Void> {
    private boolean over;

    Exchange(HttpServerRequest request) {
      request.response().endHandler(this).closeHandler(this).exceptionHandler(e -> handle(null));
    }

    @Override
    public void handle(Void v) {
      if (!over) {
        over = true;
        admitted.decrementAndGet();
      }
    }
  }

  // Under overload every request is refused: one WARN per interval with the count, not one per request.
  private void logRefusal(int limit, RouteOptions o) {
    long refusedNow = refused.incrementAndGet();
    long now = System.nanoTime();
    long last = lastRefusalWarning.get();
    if ((last == 0 || now - last >= REFUSAL_WARN_INTERVAL_NANOS) && lastRefusalWarning.compareAndSet(last, now)) {
      LOG.warn("[http queue '{}'] answering 503 to requests beyond {} held at once (maxInFlight {} + maxPending "
        + "{}); {} refused so far", queue, limit, o.maxInFlight(), o.maxPending(), refusedNow);
    } else {
      LOG.debug("[http queue '{}'] refused a request with 503: {} already held", queue, limit);
    }
  }

  /** The body is read ({@code null} for a GET route, whose message is the query). */
  private void onBody(HttpServerRequest request, Buffer body) {
    if (closing) {
      refuseClosing(request);
      return;
    }
    Message message = HttpWire.message(request, queue, body);
    HttpDelivery delivery = new HttpDelivery(request.response(), message, 1);
    open.add(delivery);
    dispatch(delivery);
  }

  private void dispatch(HttpDelivery delivery) {
    dispatcher.dispatch(delivery).onFailure(err -> {
      String errorId = HttpErrors.newErrorId();
      LOG.warn("[http queue '{}'] error {}: message {} could not be settled", queue, errorId,
        delivery.message.id(), err);
      delivery.respondError(500, "message could not be settled", errorId);
    });
  }

  private void refuseBody(HttpServerRequest request, RequestBody.Refusal refusal) {
    HttpServerResponse response = request.response();
    if (refusal.status() == 413) {
      // The caller may still be sending the rest of the body; this tells it to stop and use a new connection.
      response.putHeader(HttpHeaders.CONNECTION, "close");
    }
    HttpErrors.send(response, refusal.status(), refusal.error(), null, request.getHeader(
      HttpWireNames.MESSAGE_ID));
  }

  private void refuseClosing(HttpServerRequest request) {
    refuseClosing(request.response(), request.getHeader(HttpWireNames.MESSAGE_ID));
  }

  private void refuseClosing(HttpServerResponse response, String messageId) {
    response.putHeader("Retry-After", RETRY_AFTER_SECONDS);
    HttpErrors.send(response, 503, "queue '" + queue + "' is shutting down; retry later", null, messageId);
  }

  @Override
  public Future<Void> close() {
    Duration drainTimeout;
    Dispatcher d;
    Context ctx;
    Promise<Void> done = Promise.promise();
    synchronized (this) {
      if (closed != null) {
        return closed;
      }
      closed = done.future();
      closing = true;
      ready = false;
      if (started == null) {
        done.complete();
        return closed;
      }
      drainTimeout = options.drainTimeout();
      d = dispatcher;
      ctx = context;
    }
    Future<Void> startedOrFailed = started.otherwiseEmpty();
    startedOrFailed
      .compose(v -> {
        Promise<Void> retriesAnswered = Promise.promise();
        ctx.runOnContext(x -> {
          for (HttpDelivery delivery : open) {
            delivery.cancelRetry();
          }
          retriesAnswered.complete();
        });
        return retriesAnswered.future();
      })
      .compose(v -> d.close(drainTimeout))
      .onSuccess(stillInFlight -> {
        // Left after the drain: the handler still holds them (or they raced the close). The caller is told
        // to retry; the handler may still finish, so the message may be handled twice - at least once.
        for (HttpDelivery delivery : open) {
          if (!delivery.answered.get()) {
            LOG.warn("[http queue '{}'] message {} still in the handler after the {} ms drain timeout; "
              + "answering 503 so the caller retries", queue, delivery.message.id(), drainTimeout.toMillis());
          }
          delivery.release();
        }
      })
      .<Void>mapEmpty()
      .recover(err -> Future.succeededFuture())
      .compose(v -> unmount())
      .onComplete(ar -> {
        LOG.info("[http queue '{}'] closed", queue);
        done.complete();
      });
    return closed;
  }

  private Future<Void> unmount() {
    ServerRegistry.Handle handle;
    synchronized (this) {
      handle = server;
    }
    if (handle == null) {
      return Future.succeededFuture();
    }
    handle.unmountQueue(path);
    return handle.release();
  }

  /**
   * One request waiting for its outcome. Settled on the dispatcher's context; the response is written on
   * the request's own context.
   */
  private final class HttpDelivery implements Delivery {
    private final HttpServerResponse response;
    private final Context requestContext;
    private final Message message;
    private final int attempt;
    private final AtomicBoolean answered;
    private long retryTimer = -1; // on the dispatcher context

    HttpDelivery(HttpServerResponse response, Message message, int attempt) {
      this(response, Vertx.currentContext(), message, attempt, new AtomicBoolean());
    }

    private HttpDelivery(HttpServerResponse response, Context requestContext, Message message, int attempt,
                         AtomicBoolean answered) {
      this.response = response;
      this.requestContext = requestContext;
      this.message = message;
      this.attempt = attempt;
      this.answered = answered;
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
      answer(() -> {
        if (!response.ended() && !response.closed()) {
          response.setStatusCode(204).putHeader(HttpWireNames.MESSAGE_ID, message.id()).end();
        }
      });
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> retry(Duration delay, Throwable cause) {
      if (answered.get()) {
        return Future.succeededFuture();
      }
      if (response.closed()) {
        // The caller hung up and saw the failure; a retry's outcome could reach no one.
        LOG.warn("[http queue '{}'] caller of message {} disconnected; attempt {} failed and is not retried: {}",
          queue, message.id(), attempt, cause.toString());
        open.remove(this);
        return Future.succeededFuture();
      }
      open.remove(this);
      HttpDelivery next = new HttpDelivery(response, requestContext, message, attempt + 1, answered);
      open.add(next);
      next.retryTimer = vertx.setTimer(Math.max(1, delay.toMillis()), id -> {
        next.retryTimer = -1;
        if (closing) {
          next.release();
        } else if (response.closed()) {
          LOG.warn("[http queue '{}'] caller of message {} disconnected while it waited for attempt {}; not "
            + "retried", queue, message.id(), next.attempt);
          open.remove(next);
        } else {
          dispatch(next);
        }
      });
      if (closing) {
        // close() may already have swept the retries: do not leave this one waiting behind it.
        next.cancelRetry();
      }
      return Future.succeededFuture();
    }

    /** On close: a delivery waiting for its retry timer is answered 503 now. */
    void cancelRetry() {
      if (retryTimer != -1 && vertx.cancelTimer(retryTimer)) {
        retryTimer = -1;
        release();
      }
    }

    @Override
    public Future<Void> deadLetter(String deadLetterQueue, String reason, Throwable cause) {
      String errorId = HttpErrors.newErrorId();
      MessageDecodeException undecodable = decodeFailure(cause);
      if (undecodable != null) {
        LOG.warn("[http queue '{}'] error {}: message {} cannot be decoded, answered 400: {}", queue, errorId,
          message.id(), undecodable.getMessage());
        String detail = undecodable.getMessage();
        // the caller knows the queue: drop the "[queue 'x'] " prefix the exception carries for logs
        if (detail != null && detail.startsWith("[") && detail.indexOf("] ") > 0) {
          detail = detail.substring(detail.indexOf("] ") + 2);
        }
        respondError(400, detail, errorId);
      } else if (cause instanceof HandlerTimeoutException) {
        LOG.warn("[http queue '{}'] error {}: message {} timed out in the handler on attempt {}, answered 500",
          queue, errorId, message.id(), attempt, cause);
        respondError(500, "the handler did not finish in time after " + attempt + " attempt(s)", errorId);
      } else {
        LOG.warn("[http queue '{}'] error {}: message {} failed in the handler after {} attempt(s), answered 500",
          queue, errorId, message.id(), attempt, cause);
        respondError(500, "the handler failed after " + attempt + " attempt(s)", errorId);
      }
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> release() {
      answer(() -> refuseClosing(response, message.id()));
      return Future.succeededFuture();
    }

    void respondError(int status, String error, String errorId) {
      answer(() -> HttpErrors.send(response, status, error, errorId, message.id()));
    }

    private void answer(Runnable write) {
      open.remove(this);
      if (!answered.compareAndSet(false, true)) {
        return;
      }
      if (Vertx.currentContext() == requestContext) {
        write.run();
      } else {
        requestContext.runOnContext(v -> write.run());
      }
    }
  }

  private static MessageDecodeException decodeFailure(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof MessageDecodeException) {
        return (MessageDecodeException) c;
      }
    }
    return null;
  }
}
