package dev.streamtools.http.impl;

import dev.streamtools.http.SharedHttpServer;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.internal.net.RFC3986;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The shared HTTP servers, one per (Vert.x, host, port), reference-counted. All state is guarded by
 * {@link #LOCK}; it is only held for bookkeeping, never across I/O.
 *
 * <p>A request for a queue's path goes straight to its consumer loop, found by exact path; everything else
 * (the runner's health routes, unknown paths) goes through the {@link Router}. Routing every message
 * through vertx-web cost a tenth of the server's time under load (BENCHMARKS.md, http.wrk).
 */
public final class ServerRegistry {

  private static final Logger LOG = LoggerFactory.getLogger(ServerRegistry.class);

  /** Default bind address: every interface. */
  public static final String ANY_HOST = "0.0.0.0";
  /** How long a closing server lets responses in progress finish before closing their connections. */
  private static final long SHUTDOWN_GRACE_MS = 10_000;

  private static final Object LOCK = new Object();
  private static final Map<Key, Entry> RUNNING = new HashMap<>();
  // A server being shut down still holds its port: a new server on the same key waits for it.
  private static final Map<Key, Future<Void>> CLOSING = new HashMap<>();

  private ServerRegistry() {
  }

  // Vertx does not override equals: instances compare by identity, which is what we want.
  private record Key(Vertx vertx, String host, int port) {
  }

  /**
   * @param vertx the Vert.x instance
   * @param host bind address, {@code null} or blank for {@value #ANY_HOST}
   * @param port the port, 0 for a free one
   * @return a new reference to the running (or starting) server
   */
  public static Future<Handle> acquire(Vertx vertx, String host, int port) {
    Objects.requireNonNull(vertx, "vertx");
    String h = host == null || host.isBlank() ? ANY_HOST : host.trim();
    if (port < 0 || port > 65535) {
      return Future.failedFuture(new IllegalArgumentException("HTTP port must be 0..65535, was " + port));
    }
    Entry entry;
    synchronized (LOCK) {
      Key key = new Key(vertx, h, port);
      entry = port == 0 ? null : RUNNING.get(key);
      if (entry == null) {
        entry = new Entry(key);
        Future<Void> previous = null;
        if (port != 0) {
          RUNNING.put(key, entry);
          previous = CLOSING.get(key);
        }
        entry.start(previous);
      }
      entry.refs++;
    }
    Entry e = entry;
    return e.started.map(v -> new Handle(e));
  }

  /** What serves one queue's path. */
  private record QueuePath(HttpMethod method, Handler<HttpServerRequest> handler) {
  }

  /** One running server. */
  static final class Entry {
    private final Key requested;
    private final Router router;
    // read on every request without the lock; written under it
    private final Map<String, QueuePath> queuePaths = new ConcurrentHashMap<>();
    private Key registered; // guarded by LOCK
    private int refs; // guarded by LOCK
    private Future<Void> started;
    private volatile HttpServer server;
    private volatile int actualPort;

    Entry(Key requested) {
      this.requested = requested;
      this.registered = requested;
      this.router = Router.router(requested.vertx);
      installErrorHandlers();
    }

    private void start(Future<Void> after) {
      Future<Void> ready = after == null ? Future.succeededFuture() : after.otherwiseEmpty();
      started = ready.compose(v -> {
        HttpServer s = requested.vertx.createHttpServer(new HttpServerOptions()
          .setHost(requested.host).setPort(requested.port));
        server = s;
        return s.requestHandler(this::handle).invalidRequestHandler(ServerRegistry::invalidRequest).listen();
      }).<Void>map(s -> {
        actualPort = s.actualPort();
        if (requested.port == 0) {
          synchronized (LOCK) {
            Key actual = new Key(requested.vertx, requested.host, actualPort);
            if (!RUNNING.containsKey(actual)) {
              RUNNING.put(actual, this);
              registered = actual;
            }
          }
        }
        LOG.info("[http] listening on {}:{}", requested.host, actualPort);
        return null;
      }).onFailure(err -> {
        synchronized (LOCK) {
          RUNNING.remove(requested, this);
        }
        LOG.warn("[http] cannot listen on {}:{}: {}", requested.host, requested.port, err.toString());
      });
    }

    /** The last reference is gone: stop taking connections, finish responses in progress, close. */
    private Future<Void> stop() {
      Future<Void> closed;
      Key key;
      synchronized (LOCK) {
        key = registered;
        RUNNING.remove(key, this);
        closed = server.shutdown(SHUTDOWN_GRACE_MS, TimeUnit.MILLISECONDS)
          .recover(err -> {
            // typically the Vert.x instance closed first, which closed the server too
            LOG.debug("[http] closing the server on {}:{}: {}", requested.host, actualPort, err.toString());
            return Future.succeededFuture();
          })
          .onSuccess(v -> LOG.info("[http] stopped listening on {}:{}", requested.host, actualPort));
        CLOSING.put(key, closed);
      }
      return closed.onComplete(v -> {
        synchronized (LOCK) {
          CLOSING.remove(key, closed);
        }
      });
    }

    private void handle(HttpServerRequest request) {
      QueuePath queuePath = queuePaths.isEmpty() ? null : queuePathOf(request.path());
      if (queuePath == null) {
        router.handle(request);
      } else if (request.method() != queuePath.method) {
        methodNotAllowed(request.response(), request, queuePath.method.name());
      } else {
        try {
          queuePath.handler.handle(request);
        } catch (RuntimeException e) {
          internalError(request, e);
        }
      }
    }

    private QueuePath queuePathOf(String path) {
      if (path == null) {
        return null;
      }
      QueuePath exact = queuePaths.get(path);
      if (exact != null) {
        return exact;
      }
      // a path spelled differently (an encoded unreserved character, dot segments) matches as in the router
      try {
        return queuePaths.get(RFC3986.normalizePath(path));
      } catch (IllegalArgumentException badEscape) {
        return null; // the router answers it
      }
    }

    private void installErrorHandlers() {
      router.errorHandler(400, ctx -> HttpErrors.send(ctx.response(), 400, "bad request"
        + (ctx.failure() != null ? ": " + ctx.failure().getMessage() : ""), null, null));
      router.errorHandler(404, ctx -> HttpErrors.send(ctx.response(), 404,
        "no queue is served at " + ctx.request().path(), null, null));
      router.errorHandler(405, ctx -> methodNotAllowed(ctx.response(), ctx.request(), null));
      router.errorHandler(500, ServerRegistry::internalError);
    }
  }

  /**
   * A request Netty could not decode (a header over the size limit, too many headers, a control character in a
   * header, a malformed request line) never reaches the router. Vert.x's default answers it with an empty
   * 400/414/431; this one gives the same status with the JSON error body every other refusal has, then closes
   * the connection as the default does: after a decoding error the rest of the stream cannot be trusted.
   */
  static void invalidRequest(HttpServerRequest request) {
    DecoderResult result = request.decoderResult();
    Throwable cause = result == null ? null : result.cause();
    int status;
    String error;
    if (cause instanceof TooLongHttpLineException) {
      status = 414;
      error = "request line too long";
    } else if (cause instanceof TooLongHttpHeaderException) {
      status = 431;
      error = "request header fields too large";
    } else {
      status = 400;
      error = "malformed HTTP request";
    }
    String detail = cause == null || cause.getMessage() == null ? "" : ": " + cause.getMessage();
    // not a message, so no message id to log; a flood of these must not flood the log either
    LOG.debug("[http] invalid request from {} answered {}{}", request.remoteAddress(), status, detail);
    HttpServerResponse response = request.response();
    response.putHeader(HttpHeaders.CONNECTION, "close");
    HttpErrors.send(response, status, error + detail, null, null);
    request.connection().close();
  }

  private static void methodNotAllowed(HttpServerResponse response, HttpServerRequest request, String allowed) {
    if (allowed != null) {
      response.putHeader(HttpHeaders.ALLOW, allowed);
    }
    HttpErrors.send(response, 405, "method " + request.method() + " is not allowed on " + request.path()
      + (allowed != null ? "; use " + allowed : ""), null, null);
  }

  private static void internalError(RoutingContext ctx) {
    internalError(ctx.request(), ctx.failure());
  }

  private static void internalError(HttpServerRequest request, Throwable failure) {
    String errorId = HttpErrors.newErrorId();
    LOG.warn("[http] error {} answering {} {}", errorId, request.method(), request.path(), failure);
    HttpErrors.send(request.response(), 500, "internal error", errorId, null);
  }

  /** One reference to a shared server; also what the HTTP consumer loop uses to claim its path. */
  public static final class Handle implements SharedHttpServer {
    private final Entry entry;
    private final AtomicBoolean released = new AtomicBoolean();

    Handle(Entry entry) {
      this.entry = entry;
    }

    @Override
    public Router router() {
      return entry.router;
    }

    @Override
    public int actualPort() {
      return entry.actualPort;
    }

    /** @return the address the server is bound to */
    public String host() {
      return entry.requested.host;
    }

    /**
     * Serves a queue's path on this server, for one consumer loop: so two loops never serve one queue on one
     * server. Requests with another method are answered 405.
     *
     * @param path the queue's path ({@link HttpWire#path})
     * @param method the one method the path answers
     * @param handler gets the path's requests, on the connection's event loop, before their body is read
     * @return {@code false} if the path is already served
     */
    public boolean mountQueue(String path, HttpMethod method, Handler<HttpServerRequest> handler) {
      synchronized (LOCK) {
        return entry.queuePaths.putIfAbsent(path, new QueuePath(method, handler)) == null;
      }
    }

    /** @param path a path mounted with {@link #mountQueue}: new requests for it are answered 404 */
    public void unmountQueue(String path) {
      synchronized (LOCK) {
        entry.queuePaths.remove(path);
      }
    }

    @Override
    public Future<Void> release() {
      if (!released.compareAndSet(false, true)) {
        return Future.succeededFuture();
      }
      synchronized (LOCK) {
        if (--entry.refs > 0) {
          return Future.succeededFuture();
        }
        return entry.stop();
      }
    }
  }
}
