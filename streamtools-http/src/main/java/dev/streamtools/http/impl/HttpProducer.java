package dev.streamtools.http.impl;

import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.SendException;
import dev.streamtools.SendOptions;
import dev.streamtools.SendResult;
import dev.streamtools.Transports;
import dev.streamtools.http.HttpSettings;
import dev.streamtools.spi.Settings;
import io.netty.handler.codec.http.QueryStringEncoder;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;

import java.net.ConnectException;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * Sends each message as one HTTP request with a pooled Vert.x {@link HttpClient}; a send completes on the 2xx
 * answer, which the consumer gives once its handler succeeded.
 *
 * <p>Not vertx-web-client's {@code WebClient}: its per-request pipeline cost about 7% of the one-at-a-time
 * round-trip rate (BENCHMARKS.md, http.rtt), and the features it adds (codecs, redirects, forms) are not used.
 * Requests are issued from an event-loop context: issued from another thread, Vert.x 5.0.8 may deliver the end
 * of a response before its body is asked for, and the body then never completes (eclipse-vertx/vert.x#6038).
 */
final class HttpProducer implements Producer {

  /** How much of an error response's body a {@link SendException} quotes. */
  static final int ERROR_BODY_CHARS = 512;

  private final Vertx vertx;
  private final String queue;
  private final String defaultEndpoint;
  private final URL defaultUrl; // null if it does not parse: each send then fails with the parser's reason
  private final long sendTimeoutMillis;
  private final int maxConnections;

  private HttpClient client; // guarded by this
  private Context eventLoop; // guarded by this; where sends from other threads are issued
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
    this.defaultUrl = parsed(defaultEndpoint);
    this.sendTimeoutMillis = settings.integer(HttpSettings.SEND_TIMEOUT_MS, HttpSettings.DEFAULT_SEND_TIMEOUT_MS);
    this.maxConnections = Math.max(1, settings.integer(HttpSettings.MAX_CONNECTIONS,
      HttpSettings.DEFAULT_MAX_CONNECTIONS));
  }

  // Parsed once: RequestOptions.setAbsoluteURI(String) builds a java.net.URL per request otherwise.
  private static URL parsed(String url) {
    try {
      return new URI(url).toURL();
    } catch (URISyntaxException | MalformedURLException | IllegalArgumentException e) {
      return null;
    }
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
      client = vertx.createHttpClient(new HttpClientOptions(),
        new PoolOptions().setHttp1MaxSize(maxConnections).setHttp2MaxSize(maxConnections));
      eventLoop = ((VertxInternal) vertx).createEventLoopContext();
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<SendResult> sendForResult(Message message, SendOptions options) {
    HttpClient c;
    Context issuer;
    synchronized (this) {
      if (closed) {
        return Future.failedFuture(new SendException(Transports.HTTP, queue, message.id(), "producer is closed",
          null));
      }
      init();
      c = client;
      issuer = eventLoop;
      sending++;
    }
    SendOptions o = options == null ? SendOptions.DEFAULTS : options;
    Future<SendResult> result;
    Context current = Vertx.currentContext();
    if (current != null && current.isEventLoopContext()) {
      result = send(c, message, o);
    } else {
      Promise<SendResult> sent = Promise.promise();
      issuer.runOnContext(v -> send(c, message, o).onComplete(sent));
      result = sent.future();
    }
    return result.onComplete(ar -> sendDone());
  }

  private Future<SendResult> send(HttpClient c, Message message, SendOptions options) {
    String endpoint = options.endpoint() != null ? options.endpoint() : defaultEndpoint;
    RequestOptions request;
    HttpMethod method;
    try {
      method = method(options.method());
      request = request(message, options, method, endpoint);
    } catch (RuntimeException e) {
      return Future.failedFuture(new SendException(Transports.HTTP, queue, message.id(),
        "the request cannot be built: " + e.getMessage(), e));
    }
    // the whole URL: RequestOptions.getURI() is only its path
    String target = method + " " + endpoint;
    return c.request(request)
      .compose(req -> method == HttpMethod.GET ? req.send() : req.send(message.body()))
      .transform(ar -> {
        if (ar.failed()) {
          return Future.failedFuture(new SendException(Transports.HTTP, queue, message.id(),
            describe(ar.cause(), target, request.getTimeout()), ar.cause()));
        }
        HttpClientResponse response = ar.result();
        if (response.statusCode() / 100 == 2) {
          return response.end().transform(end -> end.succeeded()
            ? Future.succeededFuture(SendResult.of(Transports.HTTP, queue, message.id()))
            : Future.failedFuture(new SendException(Transports.HTTP, queue, message.id(), target + " answered HTTP "
              + response.statusCode() + " but the response broke off: " + end.cause(), end.cause())));
        }
        return response.body().transform(body -> Future.failedFuture(new SendException(Transports.HTTP, queue,
          message.id(), target + " answered HTTP " + response.statusCode()
          + (response.statusMessage() != null ? " " + response.statusMessage() : "")
          + (body.succeeded() ? bodyExcerpt(body.result()) : ""), null)));
      });
  }

  private RequestOptions request(Message message, SendOptions options, HttpMethod method, String endpoint) {
    String uri = endpoint;
    if (method == HttpMethod.GET) {
      QueryStringEncoder query = new QueryStringEncoder("");
      for (Map.Entry<String, String> p : HttpWire.queryParams(message.body())) {
        query.addParam(p.getKey(), p.getValue());
      }
      String params = query.toString(); // "" or "?a=1&b=2"
      if (!params.isEmpty()) {
        uri += uri.indexOf('?') >= 0 ? "&" + params.substring(1) : params;
      }
    }
    RequestOptions request = new RequestOptions().setMethod(method);
    if (defaultUrl != null && uri.equals(defaultEndpoint)) {
      request.setAbsoluteURI(defaultUrl);
    } else {
      request.setAbsoluteURI(uri);
    }
    long timeout = options.timeout() != null ? options.timeout().toMillis() : sendTimeoutMillis;
    if (timeout > 0) {
      request.setTimeout(timeout);
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
    if (method != HttpMethod.GET) {
      request.putHeader(HttpHeaders.CONTENT_TYPE, HttpWire.contentType(options.headersTag(), message));
    }
    return request;
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

  private static String describe(Throwable failure, String target, long timeout) {
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
    HttpClient toClose = null;
    synchronized (this) {
      sending--;
      if (closed && sending == 0 && closing != null && client != null) {
        toClose = client;
        toComplete = closing;
        client = null;
      }
    }
    if (toClose != null) {
      Promise<Void> done = toComplete;
      toClose.close().onComplete(ar -> done.tryComplete());
    }
  }

  @Override
  public Future<Void> close() {
    HttpClient toClose;
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
    toClose.close().onComplete(ar -> done.tryComplete());
    return done.future();
  }
}
