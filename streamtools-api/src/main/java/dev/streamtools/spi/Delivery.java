package dev.streamtools.spi;

import dev.streamtools.Message;
import io.vertx.core.Future;

import java.time.Duration;

/**
 * One received message as a transport hands it to the {@link Dispatcher}, with the protocol's own way
 * of settling it. The dispatcher calls exactly one of the settling methods, once, on the dispatcher's
 * context.
 */
public interface Delivery {

  /** @return the message */
  Message message();

  /** @return which delivery of this message this is, 1-based */
  int attempt();

  /**
   * The handler succeeded: RabbitMQ basicAck, Kafka offset marked done, HTTP 2xx, memory nothing.
   *
   * @return a Future completed when acked
   */
  Future<Void> ack();

  /**
   * The handler failed and attempts remain: deliver again after {@code delay} with attempt + 1.
   *
   * @param delay the backoff before the next attempt
   * @param cause the failure
   * @return a Future completed when the retry is scheduled or durably republished
   */
  Future<Void> retry(Duration delay, Throwable cause);

  /**
   * Attempts are exhausted or the message cannot be decoded: move it to {@code deadLetterQueue} with
   * the reason in {@code dev.streamtools.MessageHeaders} dead-letter headers, then ack the original.
   *
   * @param deadLetterQueue the destination
   * @param reason why, for people reading the dead letter
   * @param cause the failure, or {@code null}
   * @return a Future completed when the dead letter is stored and the original acked
   */
  Future<Void> deadLetter(String deadLetterQueue, String reason, Throwable cause);

  /**
   * The loop is closing before this message reached the handler: give it back unhandled
   * (RabbitMQ nack with requeue, Kafka no commit, HTTP 503, memory failed reply).
   *
   * @return a Future completed when released
   */
  Future<Void> release();
}
