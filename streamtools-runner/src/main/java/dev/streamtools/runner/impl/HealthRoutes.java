package dev.streamtools.runner.impl;

import dev.streamtools.runner.ConsumerRunner;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.List;
import java.util.function.Supplier;

/**
 * Liveness and readiness on a router the runner may share with HTTP queues. Hand-written rather than
 * vertx-health-check: two fixed answers do not need a procedure registry.
 */
final class HealthRoutes {

  private static final String JSON = "application/json";
  private static final String LIVE = "{\"status\":\"UP\"}";

  private final List<Route> routes;

  private HealthRoutes(List<Route> routes) {
    this.routes = routes;
  }

  static HealthRoutes install(Router router, Supplier<Readiness> readiness) {
    Route live = router.get(ConsumerRunner.LIVENESS_PATH).handler(ctx -> answer(ctx, 200, LIVE));
    Route ready = router.get(ConsumerRunner.READINESS_PATH).handler(ctx -> {
      Readiness r = readiness.get();
      answer(ctx, r.ready() ? 200 : 503, r.body().encode());
    });
    return new HealthRoutes(List.of(live, ready));
  }

  /** Takes the routes off the router: the server may live on, shared with queues of another runner. */
  void remove() {
    routes.forEach(Route::remove);
  }

  private static void answer(RoutingContext ctx, int status, String body) {
    ctx.response()
      .setStatusCode(status)
      .putHeader(HttpHeaders.CONTENT_TYPE, JSON)
      .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
      .end(body);
  }
}
