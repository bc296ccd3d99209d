package dev.streamtools.runner;

import dev.streamtools.ConsumerFactory;
import dev.streamtools.ConsumerInstance;
import dev.streamtools.Route;
import dev.streamtools.StreamtoolsException;
import dev.streamtools.runner.impl.RunnerEngine;
import dev.streamtools.runner.impl.ShutdownSignals;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;

/**
 * Runs the consumer loops of a {@link ConsumerFactory} as a service, Flask-style:
 *
 * <pre>{@code
 * new ConsumerRunner(consumers.instances(), consumers.handlers(), 9000, "0.0.0.0").run();
 * }</pre>
 *
 * <p>What it does:
 * <ul>
 *   <li>{@link #start()} creates one consumer loop per queue, each on its own Vert.x event-loop context,
 *   and starts them all. If one fails to start, the others are closed and the Future fails naming the
 *   queue.</li>
 *   <li>On {@code host:port} it serves {@value #LIVENESS_PATH} (200 while the process runs) and
 *   {@value #READINESS_PATH} (200 when every loop {@link dev.streamtools.ConsumerLoop#isReady() is ready},
 *   else 503 with a JSON body naming the queues that are not). With {@code QUEUE_TYPE=http} the queues
 *   listen on the same server when their {@code HTTP_PORT} is the runner's port, as in the snippet
 *   above: one port for messages and health. Port 0 picks a free port, shared the same way; see
 *   {@link #actualPort()}.</li>
 *   <li>{@link #stop()} stops intake on every loop, lets in-flight messages finish (each loop waits at
 *   most its route's {@link dev.streamtools.RouteOptions#drainTimeout() drain timeout}), closes the
 *   loops, then the health server, then the Vert.x instance if the runner created it. Messages still in
 *   flight when the drain timeout passes are left to the transport to redeliver.</li>
 *   <li>{@link #run()} does all of that in a {@code main} method: it starts, blocks until SIGTERM or
 *   SIGINT (or {@link #stop()}), stops gracefully and returns, so that {@code main} ends and the process
 *   exits with status 0.</li>
 * </ul>
 *
 * <p>Thread safe. A runner starts once; {@link #start()} and {@link #stop()} are idempotent.
 */
public final class ConsumerRunner {

  /** The host the runner listens on when none is given: every interface. */
  public static final String DEFAULT_HOST = "0.0.0.0";
  /** Liveness: 200 while the process runs. */
  public static final String LIVENESS_PATH = "/health/live";
  /** Readiness: 200 when every consumer loop is ready, else 503 with the queues that are not. */
  public static final String READINESS_PATH = "/health/ready";

  private final RunnerEngine engine;

  /**
   * A runner with its own Vert.x instance, created on {@link #start()} and closed on {@link #stop()}.
   *
   * @param instances the consumer loops to create, by queue: {@link ConsumerFactory#instances()}
   * @param handlers the routes, by queue: {@link ConsumerFactory#handlers()}
   * @param port the port of the health endpoints (and of HTTP queues on that port); 0 picks a free one
   * @param host the host to listen on, for example {@value #DEFAULT_HOST}
   * @throws dev.streamtools.ConfigException if a queue has a handler but no instance or the reverse,
   *     if there is no queue at all, or if port or host is invalid; the message names the queue
   */
  public ConsumerRunner(Map<String, ConsumerInstance> instances, Map<String, Route> handlers, int port, String host) {
    this.engine = new RunnerEngine(null, instances, handlers, port, host);
  }

  /**
   * A runner on an existing Vert.x instance, for services that embed it: the runner never closes it.
   *
   * @param vertx the Vert.x instance the loops and the health server run on
   * @param instances the consumer loops to create, by queue: {@link ConsumerFactory#instances()}
   * @param handlers the routes, by queue: {@link ConsumerFactory#handlers()}
   * @param port the port of the health endpoints (and of HTTP queues on that port); 0 picks a free one
   * @param host the host to listen on, for example {@value #DEFAULT_HOST}
   * @throws dev.streamtools.ConfigException as {@link #ConsumerRunner(Map, Map, int, String)}
   */
  public ConsumerRunner(Vertx vertx, Map<String, ConsumerInstance> instances, Map<String, Route> handlers, int port,
                        String host) {
    this.engine = new RunnerEngine(Objects.requireNonNull(vertx, "vertx"), instances, handlers, port, host);
  }

  /**
   * @param consumers the routed queues
   * @return a runner on the factory's port, listening on {@value #DEFAULT_HOST}, with its own Vert.x
   */
  public static ConsumerRunner of(ConsumerFactory consumers) {
    return new ConsumerRunner(consumers.instances(), consumers.handlers(), consumers.port(), DEFAULT_HOST);
  }

  /**
   * @param vertx the Vert.x instance to run on; the runner never closes it
   * @param consumers the routed queues
   * @return a runner on the factory's port, listening on {@value #DEFAULT_HOST}
   */
  public static ConsumerRunner of(Vertx vertx, ConsumerFactory consumers) {
    return new ConsumerRunner(vertx, consumers.instances(), consumers.handlers(), consumers.port(), DEFAULT_HOST);
  }

  /**
   * Starts, blocks until SIGTERM or SIGINT (or until {@link #stop()} is called), then stops gracefully
   * and returns. A second signal while stopping exits at once, without waiting for in-flight messages.
   * If the JVM shuts down otherwise ({@code System.exit}, SIGHUP), a shutdown hook stops the runner
   * gracefully before the JVM exits.
   *
   * @throws StreamtoolsException if the runner fails to start (the message names the queue or port)
   * @throws IllegalStateException if called on a Vert.x thread, which it would block; use
   *     {@link #start()} and {@link #stop()} there
   */
  public void run() {
    if (Context.isOnVertxThread()) {
      throw new IllegalStateException("ConsumerRunner.run() blocks until the process is told to stop: call it "
        + "from main, not from a Vert.x thread; use start() and stop() there");
    }
    ShutdownSignals signals = ShutdownSignals.install(engine::stopOnSignal, engine::stopOnJvmExit);
    try {
      await(start());
      await(engine.terminated());
    } finally {
      signals.close();
    }
  }

  /**
   * Starts every consumer loop and the health endpoints; idempotent.
   *
   * @return a Future completed when every loop consumes, failed (with nothing left running) if one of
   *     them or the health server could not start, or if the runner was stopped before
   */
  public Future<Void> start() {
    return engine.start();
  }

  /**
   * Stops intake, drains in-flight messages (bounded by each route's drain timeout), closes the loops,
   * the health server and the Vert.x instance the runner owns; idempotent. Called during start, it
   * stops as soon as the start has finished.
   *
   * @return a Future completed when everything is closed; it does not fail (problems are logged)
   */
  public Future<Void> stop() {
    return engine.stop();
  }

  /**
   * @return {@code true} when started, not stopping, and every consumer loop is ready: what
   *     {@value #READINESS_PATH} answers
   */
  public boolean isReady() {
    return engine.isReady();
  }

  /**
   * @return the port the health endpoints listen on: the given port, or the one picked for port 0
   * @throws IllegalStateException if the runner has not started listening yet
   */
  public int actualPort() {
    return engine.actualPort();
  }

  private void await(Future<Void> future) {
    try {
      future.toCompletionStage().toCompletableFuture().get();
    } catch (InterruptedException e) {
      // the thread that owns the runner wants out: stop gracefully in the background, keep the flag
      engine.stop();
      Thread.currentThread().interrupt();
      throw new StreamtoolsException(null, null, "interrupted while running consumers; stopping them", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException) {
        throw (RuntimeException) cause;
      }
      throw new StreamtoolsException(null, null, "consumer runner failed: " + cause, cause);
    }
  }
}
