package dev.streamtools.bench.impl;

import dev.streamtools.ConsumerLoop;
import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.RouteOptions;
import dev.streamtools.Transports;
import dev.streamtools.http.impl.HttpWireNames;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * HTTP: a raw Vert.x {@link HttpServer} that reads the body, parses it as JSON and answers 204, against a
 * streamtools HTTP consumer loop whose handler parses the message as JSON and succeeds (answered 204). Load comes
 * from wrk in its own process; the round-trip comparison uses one connection and one request at a time from
 * Vert.x's HttpClient (raw) and the streamtools HTTP producer.
 */
public final class HttpBench {

  private static final int SIZE = 100;
  private static final String PATH = "/orders";
  /** wrk runs for whole seconds: its rounds are cut into slices of one second, a wrk process each. */
  private static final long WRK_SLICE = TimeUnit.SECONDS.toNanos(1);

  private HttpBench() {
  }

  /**
   * @param vertx the run's Vert.x
   * @param o options
   * @return the HTTP comparisons
   */
  public static List<Comparison> comparisons(Vertx vertx, BenchOptions o) {
    return List.of(
      new Comparison("http.wrk", "wrk -t1 -c" + o.wrkConnections + ", POST " + SIZE
        + " B JSON, parsed, 204 with the message's id (X-Message-Id, new, as wrk sends none), as a streamtools "
        + "consumer answers; server on one event loop", new Goal(0.85, Double.NaN, 1.2),
        new RawServer(vertx, o, true, true), new StreamtoolsServer(vertx, o, true), true).inSlices(WRK_SLICE),
      new Comparison("http.wrk.bare", "wrk -t1 -c" + o.wrkConnections + ", POST " + SIZE + " B JSON, parsed; the "
        + "raw server answers a bare 204: what the message id in the answer costs", Goal.none(),
        new RawServer(vertx, o, true, false), new StreamtoolsServer(vertx, o, true), true).inSlices(WRK_SLICE),
      new Comparison("http.rtt", "POST " + SIZE + " B JSON, one request outstanding on one connection; the raw "
        + "client sends the headers the streamtools producer sends (a new X-Message-Id, X-Message-Timestamp, "
        + "Content-Type) and the raw server answers 204 with the X-Message-Id, as a streamtools consumer does",
        Goal.throughput(0.90), new RawServer(vertx, o, false, true),
        new StreamtoolsServer(vertx, o, false), true).inSlices(),
      new Comparison("http.rtt.bare", "POST " + SIZE + " B JSON, one request outstanding on one connection; the raw "
        + "client sends Content-Type alone and the raw server answers a bare 204: what the message metadata costs",
        Goal.none(),
        new RawServer(vertx, o, false, false), new StreamtoolsServer(vertx, o, false), true).inSlices());
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private abstract static class Base implements Side {
    final Vertx vertx;
    final BenchOptions o;
    final boolean wrk;
    final Buffer body = Payloads.json(SIZE);
    int port;
    Context serverContext;
    Context clientContext;
    Wrk load;

    Base(Vertx vertx, BenchOptions o, boolean wrk) {
      this.vertx = vertx;
      this.o = o;
      this.wrk = wrk;
    }

    @Override
    public void open() throws Exception {
      port = freePort();
      serverContext = Vx.newContext(vertx);
      if (wrk) {
        load = new Wrk(o.wrk, body.toString(StandardCharsets.UTF_8));
        load.check();
      } else {
        clientContext = Vx.newContext(vertx);
      }
    }

    @Override
    public RoundResult round(int index, long durationNanos) throws Exception {
      if (wrk) {
        return load.run("http://127.0.0.1:" + port + PATH, o.wrkConnections, durationNanos / 1e9);
      }
      return AsyncWindow.run(clientContext, 1, durationNanos, this::send);
    }

    abstract Future<?> send();
  }

  private static final class RawServer extends Base {
    private HttpServer server;
    private final boolean sameHeaders;
    private HttpClient client;

    RawServer(Vertx vertx, BenchOptions o, boolean wrk, boolean sameHeaders) {
      super(vertx, o, wrk);
      this.sameHeaders = sameHeaders;
    }

    @Override
    public String label() {
      return "Vert.x HttpServer: body -> JsonObject, 204" + (sameHeaders ? " with the request's X-Message-Id or a new "
        + "one" : "") + (wrk ? "" : "; Vert.x HttpClient (pool of 1)"
        + (sameHeaders ? ", each request with a new X-Message-Id and X-Message-Timestamp" : ""));
    }

    @Override
    public void open() throws Exception {
      super.open();
      server = Vx.on(serverContext, () -> vertx.createHttpServer().requestHandler(this::handle).listen(port,
        "127.0.0.1"));
      if (!wrk) {
        client = vertx.createHttpClient(new PoolOptions().setHttp1MaxSize(1));
      }
    }

    private void handle(HttpServerRequest req) {
      if (req.method() != HttpMethod.POST || !req.path().equals(PATH)) {
        req.response().setStatusCode(404).end();
        return;
      }
      req.body().onComplete(ar -> {
        if (ar.failed()) {
          req.response().setStatusCode(400).end();
          return;
        }
        try {
          new JsonObject(ar.result());
          HttpServerResponse response = req.response().setStatusCode(204);
          if (sameHeaders) {
            String id = req.getHeader(HttpWireNames.MESSAGE_ID);
            if (id == null) {
              ThreadLocalRandom random = ThreadLocalRandom.current();
              id = new UUID(random.nextLong(), random.nextLong()).toString();
            }
            response.putHeader(HttpWireNames.MESSAGE_ID, id);
          }
          response.end();
        } catch (RuntimeException e) {
          req.response().setStatusCode(400).end();
        }
      });
    }

    @Override
    Future<?> send() {
      return client.request(HttpMethod.POST, port, "127.0.0.1", PATH)
        .compose(req -> {
          if (sameHeaders) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            req.putHeader(HttpWireNames.MESSAGE_ID, new UUID(random.nextLong(), random.nextLong()).toString())
              .putHeader(HttpWireNames.MESSAGE_TIMESTAMP, Long.toString(System.currentTimeMillis()));
          }
          return req.putHeader("Content-Type", "application/json").send(body);
        })
        .compose(this::expect204);
    }

    private Future<Void> expect204(HttpClientResponse resp) {
      return resp.end().compose(v -> resp.statusCode() == 204 ? Future.succeededFuture()
        : Future.failedFuture("HTTP " + resp.statusCode()));
    }

    @Override
    public void close() throws Exception {
      if (client != null) {
        Vx.await(client.close());
      }
      if (server != null) {
        Vx.await(server.close());
      }
    }
  }

  private static final class StreamtoolsServer extends Base {
    private ConsumerLoop loop;
    private Producer producer;

    StreamtoolsServer(Vertx vertx, BenchOptions o, boolean wrk) {
      super(vertx, o, wrk);
    }

    @Override
    public String label() {
      return "http ConsumerLoop, handler msg.json() -> succeeded (204), RouteOptions defaults"
        + (wrk ? "" : "; http Producer.send (HTTP_MAX_CONNECTIONS 1)");
    }

    @Override
    public void open() throws Exception {
      super.open();
      JsonObject config = new JsonObject().put("HTTP_HOST", "127.0.0.1").put("HTTP_PORT", port)
        .put("HTTP_MAX_CONNECTIONS", 1);
      loop = Transports.CONSUMER_LOOPS.get(Transports.HTTP).create(vertx, PATH.substring(1), config);
      Vx.on(serverContext, () -> loop.start(m -> {
        m.json();
        return Future.succeededFuture();
      }, RouteOptions.defaults()));
      if (!wrk) {
        producer = Transports.PRODUCERS.get(Transports.HTTP).create(vertx, PATH.substring(1), config);
        Vx.on(clientContext, producer::init);
      }
    }

    @Override
    Future<?> send() {
      return producer.send(Message.builder().body(body).contentType(Message.APPLICATION_JSON).build());
    }

    @Override
    public void close() throws Exception {
      if (producer != null) {
        Vx.await(producer.close());
      }
      if (loop != null) {
        Vx.await(loop.close());
      }
    }
  }
}
