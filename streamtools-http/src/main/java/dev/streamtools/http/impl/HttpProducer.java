package dev.streamtools.http.impl;

import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.SendException;
import dev.streamtools.SendOptions;
import dev.streamtools.SendResult;
import dev.streamtools.Transports;
import dev.streamtools.http.HttpSettings;
import dev.streamtools.spi.Settings;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * Sends each message as one HTTP request with a pooled {@link WebClient}; a send completes on the 2xx
 * answer, which the consumer gives once its handler succeeded.
 */
final class HttpProducer implements Producer {

  /** How much of an error response's body a {@link SendException} quotes. */
  static final int ERROR_BODY_CHARS = 512;

  private final Vertx vertx;
  private final String queue;
  private final String defaultEndpoint;
  private final long sendTimeoutMillis;
  private final int maxConnections;

  private WebClient client; // guarded by this
  private int sending; // guarded by this
  private boolean closed; // guarded by this
  private Promise<Void> closing; // guarded by this

  HttpProducer(Vertx vertx, String queue, JsonObject config) {
    Settings settings = Settings.of(config);
    this.vertx = vertx;
    this.queue = queue;
    String host = targetHost(settings.string(HttpSettings.HOST, HttpSettings.DEFAULT_TARGET_HOST));
    int port = settings.integer(HttpSettings.PORT, HttpSettings.DEFAULT_PORT);
    this.defaultEndpoint = "http://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port
      + HttpWire.path(queue);
    this.sendTimeoutMillis = settings.integer(HttpSettings.SEND_TIMEOUT_MS, HttpSettings.DEFAULT_SEND_TIMEOUT_MS);
    this.maxConnections = Math.max(1, settings.integer(HttpSettings.MAX_CONNECTIONS,
      HttpSettings.DEFAULT_MAX_CONNECTIONS));
  }

  // A bind-everything address is where a server listens, not where a client can send: use loopback.
  private static String targetHost(String host) {
    String h = host.trim();
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    return h.isEmpty() || h.equals("0.0.0.0") || h.equals("::") ? HttpSettings.DEFAULT_TARGET_HOST : h;
  }

  @Override
  public String transport() {
    return Transports.HTTP;
  }

  @Override
  public String queue() {
    return queue;
  }

  /** @return the URL sends go to without an {@code endpoint} flag */
  String defaultEndpoint() {
    return defaultEndpoint;
  }

  @Override
  public synchronized Future<Void> init() {
    if (closed) {
      return Future.failedFuture(new IllegalStateException("HTTP producer for queue '" + queue + "' is closed"));
    }
    if (client == null) {
      client = WebClient.create(vertx, new WebClientOptions()
          .setUserAgentEnabled(false)
          .setFollowRedirects(false),
        new PoolOptions().setHttp1MaxSize(maxConnections).setHttp2MaxSize(maxConnections));
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<SendResult> sendForResult(Message message, SendOptions options) {
    WebClient c;
    synchronized (this) {
      if (closed) {
        return Future.failedFuture(new SendException(Transports.HTTP, queue, message.id(), "producer is closed",
          null));
      }
      init();
      c = client;
      sending++;
    }
    Future<SendResult> result;
    try {
      result = send(c, message, options == null ? SendOptions.DEFAULTS : options);
    } catch (RuntimeException e) {
      result = Future.failedFuture(new SendException(Transports.HTTP, queue, message.id(),
        "the request cannot be built: " + e.getMessage(), e));
    }
    return result.onComplete(ar -> sendDone());
  }

  private Future<SendResult> send(WebClient c, Message message, SendOptions options) {
    String endpoint = options.endpoint() != null ? options.endpoint() : defaultEndpoint;
    HttpMethod method = method(options.method());
    long timeout = options.timeout() != null ? options.timeout().toMillis() : sendTimeoutMillis;
    HttpRequest<Buffer> request = c.requestAbs(method, endpoint);
    if (timeout > 0) {
      request.timeout(timeout);
    }
    message.headers().forEach((name, value) -> {
      if (HttpWire.isMessageHeader(name)) {
        request.putHeader(name, value);
      }
    });
    options.headers().forEach((name, value) -> {
      if (HttpWire.isMessageHeader(name)) {
        request.putHeader(name, value);
      }
    });
    request.putHeader(HttpWireNames.MESSAGE_ID, message.id());
    request.putHeader(HttpWireNames.MESSAGE_TIMESTAMP, Long.toString(message.timestamp().toEpochMilli()));
    if (message.correlationId() != null) {
      request.putHeader(HttpWireNames.CORRELATION_ID, message.correlationId());
    }
    String key = options.key() != null ? options.key() : message.key();
    if (key != null) {
      request.putHeader(HttpWireNames.MESSAGE_KEY, key);
    }
    Future<HttpResponse<Buffer>> response;
    if (method == HttpMethod.GET) {
      for (Map.Entry<String, String> p : HttpWire.queryParams(message.body())) {
        request.addQueryParam(p.getKey(), p.getValue());
      }
      response = request.send();
    } else {
      request.putHeader("Content-Type", HttpWire.contentType(options.headersTag(), message));
      response = request.sendBuffer(message.body());
    }
    return response.transform(ar -> {
      if (ar.failed()) {
        return Future.failedFuture(new SendException(Transports.HTTP, queue, message.id(),
          describe(ar.cause(), method, endpoint, timeout), ar.cause()));
      }
      HttpResponse<Buffer> r = ar.result();
      if (r.statusCode() / 100 == 2) {
        return Future.succeededFuture(SendResult.of(Transports.HTTP, queue, message.id()));
      }
      return Future.failedFuture(new SendException(Transports.HTTP, queue, message.id(),
        method + " " + endpoint + " answered HTTP " + r.statusCode()
          + (r.statusMessage() != null ? " " + r.statusMessage() : "") + bodyExcerpt(r.body()), null));
    });
  }

  private static HttpMethod method(String method) {
    if (method == null || method.isBlank()) {
      return HttpMethod.POST;
    }
    switch (method.trim().toUpperCase(Locale.ROOT)) {
      case "POST": return HttpMethod.POST;
      case "GET": return HttpMethod.GET;
      default: throw new IllegalArgumentException("HTTP method must be POST or GET, was '" + method + "'");
    }
  }

  private static String bodyExcerpt(Buffer body) {
    if (body == null || body.length() == 0) {
      return "";
    }
    String text = body.toString(StandardCharsets.UTF_8);
    return ": " + (text.length() <= ERROR_BODY_CHARS ? text : text.substring(0, ERROR_BODY_CHARS) + "...");
  }

  private static String describe(Throwable failure, HttpMethod method, String endpoint, long timeout) {
    String target = method + " " + endpoint;
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof ConnectException) {
        return target + ": cannot connect (" + t.getMessage() + "); is a consumer listening there?";
      }
      if (t instanceof TimeoutException) {
        return target + ": no answer within " + timeout + " ms";
      }
    }
    return target + ": " + failure;
  }

  private void sendDone() {
    Promise<Void> toComplete = null;
    WebClient toClose = null;
    synchronized (this) {
      sending--;
      if (closed && sending == 0 && closing != null && client != null) {
        toClose = client;
        toComplete = closing;
        client = null;
      }
    }
    if (toClose != null) {
      closeClient(toClose, toComplete);
    }
  }

  @Override
  public Future<Void> close() {
    WebClient toClose;
    Promise<Void> done;
    synchronized (this) {
      if (closing != null) {
        return closing.future();
      }
      closed = true;
      closing = Promise.promise();
      if (sending > 0 || client == null) {
        if (client == null) {
          closing.complete();
        }
        return closing.future();
      }
      toClose = client;
      client = null;
      done = closing;
    }
    closeClient(toClose, done);
    return done.future();
  }

  private static void closeClient(WebClient c, Promise<Void> done) {
    c.close();
    done.tryComplete();
  }
}
