package dev.streamtools.http;

import dev.streamtools.http.impl.ServerRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * The HTTP servers streamtools runs, one per (Vert.x instance, host, port), shared by every HTTP consumer
 * loop on that port and by the runner's health endpoints.
 *
 * <p>Thread safe: acquire and release may be called from any thread.
 */
public final class HttpServers {

  private HttpServers() {
  }

  /**
   * Returns the server listening on {@code host:port} in {@code vertx}, starting it if none runs; every
   * call holds one reference until {@link SharedHttpServer#release()}.
   *
   * <p>Port 0 always starts a new server on a free port; later acquires of its {@link
   * SharedHttpServer#actualPort() actual port} share it.
   *
   * @param vertx the Vert.x instance the server runs in
   * @param host the address to bind, for example {@code 0.0.0.0} (all interfaces) or {@code 127.0.0.1};
   *     {@code null} means {@code 0.0.0.0}
   * @param port the port, 0 for a free one
   * @return a Future with the server; failed when the port cannot be bound (the cause is Vert.x's bind
   *     failure) or the arguments are invalid
   */
  public static Future<SharedHttpServer> acquire(Vertx vertx, String host, int port) {
    return ServerRegistry.acquire(vertx, host, port).map(s -> s);
  }
}
