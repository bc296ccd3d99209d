package dev.streamtools.http;

import io.vertx.core.Future;
import io.vertx.ext.web.Router;

/**
 * One use of an HTTP server shared by everything that serves on the same Vert.x instance, host and port:
 * the HTTP consumer loops (one route per queue, {@code /<queue>}) and the runner's health routes.
 * Obtained from {@link HttpServers#acquire(io.vertx.core.Vertx, String, int)}.
 *
 * <p>The server is reference-counted: each acquire holds one reference, {@link #release()} gives it back,
 * and the server stops when the last reference is released. Thread safe.
 */
public interface SharedHttpServer {

  /**
   * The router of every request that is not for a queue's path (those go straight to their consumer loop).
   * Mount routes on it; remove them ({@link io.vertx.ext.web.Route#remove()}) before releasing if the server
   * may outlive this use. Unmatched paths answer 404 and wrong methods 405, with a JSON error body.
   *
   * @return the shared router
   */
  Router router();

  /** @return the port the server listens on: the requested one, or the one chosen for port 0 */
  int actualPort();

  /**
   * Gives this reference back; when it was the last, the server stops taking connections, lets responses
   * in progress finish (bounded) and closes. Idempotent: a second call does nothing.
   *
   * @return a Future completed when released, or when the server is closed if this was the last
   *     reference; it never fails
   */
  Future<Void> release();
}
