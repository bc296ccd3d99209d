package dev.streamtools;

import io.vertx.core.json.JsonObject;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Routes queues to handlers, Flask-style, for one transport:
 *
 * <pre>{@code
 * ConsumerFactory consumers = new ConsumerFactory(Transports.queueType(), 9000);
 * consumers.route("queue_1", msg -> { ...; return Future.succeededFuture(); });
 * consumers.route("orders", Order.class, order -> ...);
 * new ConsumerRunner(consumers.instances(), consumers.handlers(), 9000, "0.0.0.0").run();
 * }</pre>
 *
 * <p>Not thread safe: declare routes from one thread before handing the factory to a runner.
 */
public final class ConsumerFactory {

  private final String queueType;
  private final int port;
  private final JsonObject config;
  private final Map<String, Route> routes = new LinkedHashMap<>();

  /**
   * @param queueType the transport name or alias, for example {@link Transports#queueType()}
   * @param port the port HTTP consumer loops listen on ({@code HTTP_PORT})
   * @throws UnknownTransportException if no module provides {@code queueType}
   */
  public ConsumerFactory(String queueType, int port) {
    this(queueType, port, new JsonObject());
  }

  /**
   * @param queueType the transport name or alias
   * @param port the port HTTP consumer loops listen on ({@code HTTP_PORT})
   * @param config settings by their environment names, given to every loop
   * @throws UnknownTransportException if no module provides {@code queueType}
   */
  public ConsumerFactory(String queueType, int port, JsonObject config) {
    this.queueType = Transports.resolve(queueType);
    if (port < 0 || port > 65535) {
      throw new ConfigException("port must be between 0 and 65535, was " + port);
    }
    this.port = port;
    this.config = (config == null ? new JsonObject() : config.copy()).put("HTTP_PORT", port);
  }

  /**
   * Routes a queue to a handler of raw messages, with default options.
   *
   * @param queue the queue
   * @param handler the handler
   * @return this factory
   * @throws IllegalStateException if the queue already has a route
   */
  public ConsumerFactory route(String queue, MessageHandler handler) {
    return route(queue, RouteOptions.DEFAULTS, handler);
  }

  /**
   * Routes a queue to a handler of raw messages.
   *
   * @param queue the queue
   * @param options in-flight bound, failure policy, HTTP method
   * @param handler the handler
   * @return this factory
   * @throws IllegalStateException if the queue already has a route
   */
  public ConsumerFactory route(String queue, RouteOptions options, MessageHandler handler) {
    Objects.requireNonNull(handler, "handler");
    if (queue == null || queue.isBlank()) {
      throw new ConfigException("route queue name must not be empty");
    }
    if (routes.containsKey(queue)) {
      throw new IllegalStateException("queue '" + queue + "' already has a route");
    }
    routes.put(queue, new Route(queue, handler, options));
    return this;
  }

  /**
   * Routes a queue to a handler of decoded JSON bodies, with default options. A body that does not
   * decode into {@code type} is dead-lettered (HTTP: 400) without reaching the handler.
   *
   * @param queue the queue
   * @param type what the JSON body decodes into: a record, POJO, {@code JsonObject} ...
   * @param handler the handler
   * @param <T> the decoded type
   * @return this factory
   */
  public <T> ConsumerFactory route(String queue, Class<T> type, TypedHandler<T> handler) {
    return route(queue, type, RouteOptions.DEFAULTS, handler);
  }

  /**
   * Routes a queue to a handler of decoded JSON bodies.
   *
   * @param queue the queue
   * @param type what the JSON body decodes into
   * @param options in-flight bound, failure policy, HTTP method
   * @param handler the handler
   * @param <T> the decoded type
   * @return this factory
   */
  public <T> ConsumerFactory route(String queue, Class<T> type, RouteOptions options, TypedHandler<T> handler) {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(handler, "handler");
    return route(queue, options, message -> handler.handle(message.as(type)));
  }

  /** @return one consumer to create per route, by queue, in declaration order; unmodifiable */
  public Map<String, ConsumerInstance> instances() {
    Map<String, ConsumerInstance> instances = new LinkedHashMap<>();
    routes.keySet().forEach(q -> instances.put(q, new ConsumerInstance(q, queueType, config)));
    return Collections.unmodifiableMap(instances);
  }

  /** @return the routes by queue, in declaration order; unmodifiable */
  public Map<String, Route> handlers() {
    return Collections.unmodifiableMap(new LinkedHashMap<>(routes));
  }

  /** @return the canonical transport name */
  public String queueType() {
    return queueType;
  }

  /** @return the port HTTP consumer loops listen on */
  public int port() {
    return port;
  }
}
