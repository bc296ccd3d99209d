package dev.streamtools.rabbitmq;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.streamtools.rabbitmq.Rmq.join;

/**
 * A TCP proxy in front of the broker that a test can break: {@link #cut()} drops every connection and
 * refuses new ones until {@link #restore()}; {@link #freeze()} stops passing the broker's bytes to the client
 * (confirms, deliveries) while the client's still reach the broker; {@link #stopReading()} leaves the client's
 * bytes unread, as a broker that stops reading a connection (a resource alarm) does. With TLS options it also terminates TLS,
 * so a TLS client can be tested against the plain-TCP broker.
 */
final class FaultProxy implements AutoCloseable {

  private final Vertx vertx;
  private final String targetHost;
  private final int targetPort;
  private final Set<Link> links = ConcurrentHashMap.newKeySet();
  private final AtomicInteger refused = new AtomicInteger();
  private final AtomicInteger accepted = new AtomicInteger();
  private NetServer server;
  private NetClient client;
  private volatile boolean down;
  private volatile boolean frozen;

  private FaultProxy(Vertx vertx, String targetHost, int targetPort) {
    this.vertx = vertx;
    this.targetHost = targetHost;
    this.targetPort = targetPort;
  }

  static FaultProxy start(Vertx vertx, String targetHost, int targetPort, NetServerOptions options) throws Exception {
    FaultProxy p = new FaultProxy(vertx, targetHost, targetPort);
    p.client = vertx.createNetClient();
    p.server = vertx.createNetServer(options.setHost("127.0.0.1").setPort(0)).connectHandler(p::accept);
    join(p.server.listen());
    return p;
  }

  static FaultProxy start(Vertx vertx, String targetHost, int targetPort) throws Exception {
    return start(vertx, targetHost, targetPort, new NetServerOptions());
  }

  int port() {
    return server.actualPort();
  }

  /** @return how many connections were refused while cut */
  int refused() {
    return refused.get();
  }

  /** @return how many connections were accepted and forwarded */
  int accepted() {
    return accepted.get();
  }

  /** Closes every open connection and refuses new ones. */
  void cut() {
    down = true;
    frozen = false;
    links.forEach(Link::close);
  }

  void restore() {
    down = false;
  }

  /** Holds back what the broker sends until {@link #thaw()} or {@link #cut()}. */
  void freeze() {
    frozen = true;
  }

  void thaw() {
    frozen = false;
    links.forEach(l -> l.context.runOnContext(v -> l.flush()));
  }

  /**
   * Stops reading what clients send, so their socket writes back up, until {@link #readAgain()}.
   *
   * @return completes once no connection is read any more
   */
  Future<Void> stopReading() {
    List<Future<Void>> paused = new ArrayList<>();
    for (Link l : links) {
      Promise<Void> p = Promise.promise();
      l.context.runOnContext(v -> {
        l.front.pause();
        p.complete();
      });
      paused.add(p.future());
    }
    return Future.all(paused).mapEmpty();
  }

  void readAgain() {
    links.forEach(l -> l.context.runOnContext(v -> l.front.resume()));
  }

  @Override
  public void close() {
    cut();
    try {
      join(server.close());
      join(client.close());
    } catch (Exception e) {
      throw new IllegalStateException("fault proxy did not close", e);
    }
  }

  private void accept(NetSocket front) {
    if (down) {
      refused.incrementAndGet();
      front.close();
      return;
    }
    front.pause();
    client.connect(targetPort, targetHost).onComplete(ar -> {
      if (ar.failed() || down) {
        front.close();
        if (ar.succeeded()) {
          ar.result().close();
        }
        return;
      }
      accepted.incrementAndGet();
      Link link = new Link(front, ar.result());
      links.add(link);
      link.start();
    });
  }

  /** One client connection and its connection to the broker. */
  private final class Link {
    private final NetSocket front;
    private final NetSocket back;
    private final Queue<Buffer> held = new ConcurrentLinkedQueue<>();
    private final Context context = Vertx.currentContext();

    Link(NetSocket front, NetSocket back) {
      this.front = front;
      this.back = back;
    }

    void start() {
      front.handler(back::write);
      back.handler(buf -> {
        if (frozen) {
          held.add(buf);
        } else {
          flush();
          front.write(buf);
        }
      });
      front.closeHandler(v -> close());
      back.closeHandler(v -> close());
      front.resume();
    }

    void flush() {
      Buffer b;
      while ((b = held.poll()) != null) {
        front.write(b);
      }
    }

    void close() {
      links.remove(this);
      held.clear();
      front.close();
      back.close();
    }
  }
}
