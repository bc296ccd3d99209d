package dev.streamtools;

import io.vertx.core.Future;

/**
 * Sends messages to one queue (topic, HTTP path) over one transport.
 *
 * <p>Contract, the same on every transport:
 * <ul>
 *   <li>{@link #init()} connects and declares what the transport needs (RabbitMQ queues, Kafka topics);
 *   it is idempotent, and {@code send} calls it when it has not run.</li>
 *   <li>A send's Future succeeds only when the transport has <em>taken</em> the message: HTTP 2xx,
 *   RabbitMQ publisher confirm of a persistent message, Kafka broker ack ({@code acks=all}), memory:
 *   a consumer took it. Anything else fails it with a {@link SendException} naming transport, queue,
 *   message id and cause. Nothing is dropped silently.</li>
 *   <li>Thread safe: sends may come from any thread; Futures complete on the producer's Vert.x context.</li>
 *   <li>{@link #close()} waits for sends already started to complete or fail, then releases
 *   connections. It is idempotent; a send after close fails.</li>
 * </ul>
 */
public interface Producer {

  /** @return the transport name, for example {@value Transports#KAFKA} */
  String transport();

  /** @return the queue this producer sends to */
  String queue();

  /**
   * Connects and declares topology; idempotent.
   *
   * @return a Future completed when the producer can send
   */
  Future<Void> init();

  /**
   * Sends with default options.
   *
   * @param message the message
   * @return a Future completed when the transport has taken the message
   */
  default Future<Void> send(Message message) {
    return send(message, SendOptions.DEFAULTS);
  }

  /**
   * Sends with per-protocol flags; flags another transport defines are ignored.
   *
   * @param message the message
   * @param options the flags
   * @return a Future completed when the transport has taken the message
   */
  default Future<Void> send(Message message, SendOptions options) {
    return sendForResult(message, options).mapEmpty();
  }

  /**
   * Sends and reports where the message went (Kafka partition and offset).
   *
   * @param message the message
   * @param options the flags
   * @return a Future with what the transport reported on taking the message
   */
  Future<SendResult> sendForResult(Message message, SendOptions options);

  /**
   * Completes or fails the sends already started, then releases connections; idempotent.
   *
   * @return a Future completed when the producer is closed
   */
  Future<Void> close();
}
