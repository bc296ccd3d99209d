package dev.streamtools.runner.impl;

import dev.streamtools.ConfigException;
import dev.streamtools.ConsumerInstance;
import dev.streamtools.Route;
import dev.streamtools.StreamtoolsException;
import dev.streamtools.Transports;
import dev.streamtools.http.HttpServers;
import dev.streamtools.http.SharedHttpServer;
import dev.streamtools.runner.ConsumerRunner;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * The state machine behind {@link ConsumerRunner}: start, health, graceful stop. Fields marked
 * "guarded" are read and written under {@code this}; {@link #state} and {@link #loops} are also read
 * lock-free by the health handler on an event loop.
 */
public final class RunnerEngine {

  private static final Logger LOG = LoggerFactory.getLogger(ConsumerRunner.class);

  /** Beyond a route's drain timeout, how long the runner waits for its loop's close before moving on. */
  static final long CLOSE_GRACE_MS = 5_000;
  private static final long START_REPORT_MS = 10_000;
  private static final String HTTP_PORT = "HTTP_PORT";
  private static final String HTTP_HOST = "HTTP_HOST";

  private enum State { NEW, STARTING, RUNNING, STOPPING, STOPPED }

  /** One routed queue: what to create and what to call. */
  private record QueueSpec(String queue, ConsumerInstance instance, Route route) {
  }

  private final Vertx givenVertx;
  private final List<QueueSpec> queues;
  private final int port;
  private final String host;
  private final long maxDrainMillis;
  // Context-less promises: their listeners run where they complete. Futures derived from the runner's
  // own Vert.x would deliver on its event loops, which are gone once an owned instance is closed.
  private final Promise<Void> terminated = Promise.promise();
  private final Promise<Void> startedPromise = Promise.promise();
  private final Promise<Void> stoppedPromise = Promise.promise();
  private final Map<String, LoopVerticle> loops = new ConcurrentHashMap<>();

  private volatile State state = State.NEW;
  // guarded
  private Vertx vertx;
  private Future<Void> started;
  private Future<Void> stopped;
  private SharedHttpServer server;
  private HealthRoutes health;
  private int actualPort = -1;
  private long startNanos;
  private final Map<String, String> deployments = new LinkedHashMap<>();

  /**
   * @param vertx the Vert.x instance to run on, or {@code null} to create (and close) one
   * @param instances consumer instances by queue
   * @param handlers routes by queue
   * @param port the health (and shared HTTP) port, 0 for any
   * @param host the host to listen on
   */
  public RunnerEngine(Vertx vertx, Map<String, ConsumerInstance> instances, Map<String, Route> handlers, int port,
                      String host) {
    this.givenVertx = vertx;
    this.queues = validate(instances, handlers);
    if (port < 0 || port > 65535) {
      throw new ConfigException("runner port must be between 0 and 65535, was " + port);
    }
    if (host == null || host.isBlank()) {
      throw new ConfigException("runner host must not be empty (use " + ConsumerRunner.DEFAULT_HOST
        + " for every interface)");
    }
    this.port = port;
    this.host = host;
    this.maxDrainMillis = queues.stream().mapToLong(q -> q.route().options().drainTimeout().toMillis()).max().orElse(0);
  }

  private static List<QueueSpec> validate(Map<String, ConsumerInstance> instances, Map<String, Route> handlers) {
    Objects.requireNonNull(instances, "instances");
    Objects.requireNonNull(handlers, "handlers");
    String sameFactory = "; pass consumers.instances() and consumers.handlers() of the same ConsumerFactory";
    for (String queue : handlers.keySet()) {
      if (!instances.containsKey(queue)) {
        throw new ConfigException("queue '" + queue + "' has a handler but no consumer instance" + sameFactory);
      }
    }
    for (String queue : instances.keySet()) {
      if (!handlers.containsKey(queue)) {
        throw new ConfigException("queue '" + queue + "' has a consumer instance but no handler" + sameFactory);
      }
    }
    if (instances.isEmpty()) {
      throw new ConfigException("no queue to consume: route at least one queue (consumers.route(...)) "
        + "before creating a ConsumerRunner");
    }
    List<QueueSpec> specs = new ArrayList<>();
    instances.forEach((queue, instance) -> {
      Route route = handlers.get(queue);
      if (instance == null || route == null) {
        throw new ConfigException("queue '" + queue + "' has a null " + (instance == null ? "consumer instance" : "handler"));
      }
      if (!instance.queue().equals(queue)) {
        throw new ConfigException("instances['" + queue + "'] is the consumer instance of queue '" + instance.queue()
          + "'; each key must be its instance's queue");
      }
      if (!route.queue().equals(queue)) {
        throw new ConfigException("handlers['" + queue + "'] is the route of queue '" + route.queue()
          + "'; each key must be its route's queue");
      }
      specs.add(new QueueSpec(queue, instance, route));
    });
    return List.copyOf(specs);
  }

  /** @return see {@link ConsumerRunner#start()} */
  public synchronized Future<Void> start() {
    if (started != null) {
      return started;
    }
    if (state != State.NEW) {
      return Future.failedFuture(new IllegalStateException("this ConsumerRunner was stopped before it started; "
        + "a runner starts once"));
    }
    state = State.STARTING;
    vertx = givenVertx != null ? givenVertx : Vertx.vertx();
    startNanos = System.nanoTime();
    started = startedPromise.future();
    listen().compose(this::deployAll).onComplete(ar -> {
      if (ar.succeeded()) {
        onStarted();
      } else {
        onStartFailed(ar.cause());
      }
    });
    return started;
  }

  private Future<Void> listen() {
    Future<SharedHttpServer> acquired;
    try {
      acquired = HttpServers.acquire(vertx, host, port);
    } catch (RuntimeException e) {
      acquired = Future.failedFuture(e);
    }
    return acquired
      .recover(e -> Future.failedFuture(new StreamtoolsException(null, null, "cannot listen on " + host + ":" + port
        + " for the health endpoints: " + e.getMessage(), e)))
      .map(s -> {
        synchronized (this) {
          server = s;
          actualPort = s.actualPort();
          health = HealthRoutes.install(s.router(), this::readiness);
        }
        return null;
      });
  }

  private Future<Void> deployAll(Void ignored) {
    List<Future<String>> deployed = new ArrayList<>();
    for (QueueSpec q : queues) {
      LoopVerticle verticle = new LoopVerticle(shareServer(q.instance()), q.route(), CLOSE_GRACE_MS);
      loops.put(q.queue(), verticle);
      Future<String> d;
      try {
        d = vertx.deployVerticle(verticle);
      } catch (RuntimeException e) {
        d = Future.failedFuture(e);
      }
      deployed.add(d
        .onSuccess(id -> {
          synchronized (this) {
            deployments.put(q.queue(), id);
          }
        })
        .recover(e -> Future.failedFuture(startFailure(q, e))));
    }
    long report = vertx.setPeriodic(START_REPORT_MS, id -> reportSlowStart());
    return Future.join(deployed).transform(ar -> {
      vertx.cancelTimer(report);
      List<Throwable> failures = deployed.stream().filter(Future::failed).map(Future::cause).collect(Collectors.toList());
      if (failures.isEmpty()) {
        return Future.succeededFuture();
      }
      Throwable first = failures.get(0);
      failures.stream().skip(1).filter(t -> t != first).forEach(first::addSuppressed);
      return Future.failedFuture(first);
    });
  }

  /**
   * With {@code QUEUE_TYPE=http} a loop whose {@code HTTP_PORT} is the runner's port listens on the
   * runner's server: same host, and for port 0 the port that was picked.
   */
  private ConsumerInstance shareServer(ConsumerInstance instance) {
    if (!Transports.HTTP.equals(instance.transport())) {
      return instance;
    }
    JsonObject config = instance.config().copy();
    Object loopPort = config.getValue(HTTP_PORT);
    if (loopPort == null || !String.valueOf(port).equals(String.valueOf(loopPort).trim())) {
      return instance;
    }
    config.put(HTTP_PORT, actualPort);
    if (config.getValue(HTTP_HOST) == null) {
      config.put(HTTP_HOST, host);
    }
    return new ConsumerInstance(instance.queue(), instance.transport(), config);
  }

  private static StreamtoolsException startFailure(QueueSpec q, Throwable e) {
    if (e instanceof StreamtoolsException && q.queue().equals(((StreamtoolsException) e).queue())) {
      return (StreamtoolsException) e;
    }
    return new StreamtoolsException(q.instance().transport(), q.queue(), "consumer loop failed to start: "
      + e.getMessage(), e);
  }

  private void reportSlowStart() {
    List<String> waiting = loops.entrySet().stream().filter(e -> !e.getValue().isStarted())
      .map(e -> e.getKey() + " (" + e.getValue().transport() + ")").collect(Collectors.toList());
    if (!waiting.isEmpty() && state == State.STARTING) {
      LOG.warn("still starting after {} s: waiting for queues {} (is the broker reachable?)",
        TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNanos), waiting);
    }
  }

  private void onStarted() {
    synchronized (this) {
      if (state == State.STARTING) {
        state = State.RUNNING;
      }
    }
    LOG.info("streamtools runner started in {} ms: transport {}, queues {}, port {} (host {}); health: GET {} and {}",
      TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos), transports(), queueNames(), actualPort, host,
      ConsumerRunner.LIVENESS_PATH, ConsumerRunner.READINESS_PATH);
    startedPromise.complete();
  }

  private void onStartFailed(Throwable cause) {
    LOG.error("streamtools runner failed to start: {}", cause.getMessage());
    shutdown(false, () -> {
      terminated.tryFail(cause);
      startedPromise.fail(cause);
    });
  }

  /** @return see {@link ConsumerRunner#stop()} */
  public synchronized Future<Void> stop() {
    if (stopped != null) {
      return stopped;
    }
    stopped = stoppedPromise.future();
    if (started == null) {
      state = State.STOPPED;
      terminated.tryComplete();
      stoppedPromise.complete();
      return stopped;
    }
    if (state != State.STOPPED) {
      state = State.STOPPING;
    }
    started.onComplete(ar -> {
      if (ar.succeeded()) {
        shutdown(true, stoppedPromise::complete);
      } else {
        stoppedPromise.complete(); // the failed start already closed what it had opened
      }
    });
    return stopped;
  }

  /**
   * Stops intake everywhere at once (the loops close in parallel, each draining up to its own drain
   * timeout), then releases the server the queues may share, then closes the Vert.x instance it owns:
   * the order section 4 of the design asks for. Never fails; runs {@code then} when done.
   */
  private void shutdown(boolean afterStart, Runnable then) {
    long t0 = System.nanoTime();
    Map<String, String> toUndeploy;
    synchronized (this) {
      state = State.STOPPING;
      toUndeploy = new LinkedHashMap<>();
      queues.stream().filter(q -> deployments.containsKey(q.queue()))
        .forEach(q -> toUndeploy.put(q.queue(), deployments.get(q.queue())));
      deployments.clear();
    }
    if (afterStart) {
      LOG.info("stopping: intake stopped on queues {}; draining in-flight messages (at most {} ms)",
        toUndeploy.keySet(), maxDrainMillis);
    }
    List<String> problems = new ArrayList<>();
    List<Future<?>> closing = new ArrayList<>();
    toUndeploy.forEach((queue, id) -> closing.add(vertx.undeploy(id)
      .onSuccess(v -> {
        if (!loops.get(queue).closedCleanly()) {
          synchronized (problems) {
            problems.add(queue);
          }
        }
      })
      .recover(e -> {
        synchronized (problems) {
          problems.add(queue);
        }
        LOG.warn("[queue '{}'] consumer loop did not close cleanly: {}", queue, e.toString());
        return Future.succeededFuture();
      })));
    Future.join(closing)
      .transform(x -> releaseServer())
      // closing an owned Vert.x ends its event loops: finish on the thread that completes the close
      .onComplete(x -> closeOwnedVertx().onComplete(y -> {
        state = State.STOPPED;
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        if (!afterStart) {
          LOG.info("streamtools runner closed what had started in {} ms", ms);
        } else if (problems.isEmpty()) {
          LOG.info("streamtools runner stopped cleanly in {} ms", ms);
        } else {
          LOG.warn("streamtools runner stopped in {} ms; queues {} did not close cleanly (see above)", ms, problems);
        }
        then.run();
        terminated.tryComplete();
      }));
  }

  private Future<Void> releaseServer() {
    SharedHttpServer s;
    HealthRoutes h;
    synchronized (this) {
      s = server;
      h = health;
      server = null;
      health = null;
    }
    if (h != null) {
      h.remove();
    }
    if (s == null) {
      return Future.succeededFuture();
    }
    return s.release().recover(e -> {
      LOG.warn("could not release the HTTP server on port {}: {}", actualPort, e.toString());
      return Future.succeededFuture();
    });
  }

  private Future<Void> closeOwnedVertx() {
    if (givenVertx != null) {
      return Future.succeededFuture();
    }
    return vertx.close().recover(e -> {
      LOG.warn("could not close the runner's Vert.x instance: {}", e.toString());
      return Future.succeededFuture();
    });
  }

  /** Called on SIGTERM/SIGINT: stop without blocking the signal thread. */
  public void stopOnSignal(String signal) {
    LOG.info("received SIG{}: stopping gracefully (send it again to exit at once)", signal);
    stop();
  }

  /** Called from the JVM shutdown hook: stop and wait, bounded, since the JVM halts when hooks return. */
  public void stopOnJvmExit() {
    State s = state;
    if (s == State.NEW || s == State.STOPPED) {
      return;
    }
    LOG.info("JVM is shutting down: stopping consumers gracefully");
    long bound = maxDrainMillis + CLOSE_GRACE_MS + 5_000;
    try {
      stop().toCompletionStage().toCompletableFuture().get(bound, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      LOG.warn("gave up waiting for the consumers to stop after {} ms; in-flight messages are left to redelivery", bound);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      LOG.warn("stopping failed: {}", e.getCause().toString());
    }
  }

  /** @return a Future completed once the runner has stopped, or failed if its start failed */
  public Future<Void> terminated() {
    return terminated.future();
  }

  /** @return whether the runner is running and every loop is ready */
  public boolean isReady() {
    return readiness().ready();
  }

  /** @return the port the health server listens on */
  public synchronized int actualPort() {
    if (actualPort < 0) {
      throw new IllegalStateException("the runner is not listening yet: call start() and wait for it");
    }
    return actualPort;
  }

  /** What {@link ConsumerRunner#READINESS_PATH} answers; called on an event loop, reads without locking. */
  Readiness readiness() {
    State s = state;
    JsonObject perQueue = new JsonObject();
    JsonArray notReady = new JsonArray();
    for (QueueSpec q : queues) {
      LoopVerticle loop = loops.get(q.queue());
      boolean ready = s == State.RUNNING && loop != null && loop.isReady();
      perQueue.put(q.queue(), new JsonObject().put("transport", q.instance().transport()).put("ready", ready));
      if (!ready) {
        notReady.add(q.queue());
      }
    }
    boolean ready = s == State.RUNNING && notReady.isEmpty();
    JsonObject body = new JsonObject()
      .put("status", ready ? "UP" : "DOWN")
      .put("state", s.name().toLowerCase(java.util.Locale.ROOT))
      .put("notReady", notReady)
      .put("queues", perQueue);
    return new Readiness(ready, body);
  }

  private String transports() {
    return String.join(", ", queues.stream().map(q -> q.instance().transport())
      .collect(Collectors.toCollection(LinkedHashSet::new)));
  }

  private List<String> queueNames() {
    return queues.stream().map(QueueSpec::queue).collect(Collectors.toList());
  }
}
