package dev.streamtools.kafka.impl;

import dev.streamtools.Message;
import dev.streamtools.spi.Delivery;
import io.vertx.core.Future;

import java.time.Duration;

/**
 * One delivery of one Kafka record to the dispatcher. Kafka has no per-message ack: settling marks the record
 * done in its {@link PartitionState}, and the loop commits up to the first record not done. A retry keeps the
 * record (and its partition slot) and delivers it again after the backoff; a dead letter is produced to the
 * dead-letter topic and acknowledged by Kafka before the record counts as done.
 */
final class RecordDelivery implements Delivery {

  private final KafkaConsumerLoop loop;
  final PartitionState partition;
  final PartitionState.Tracked tracked;
  private final Message message;
  private final int attempt;

  RecordDelivery(KafkaConsumerLoop loop, PartitionState partition, PartitionState.Tracked tracked, Message message,
                 int attempt) {
    this.loop = loop;
    this.partition = partition;
    this.tracked = tracked;
    this.message = message;
    this.attempt = attempt;
  }

  @Override
  public Message message() {
    return message;
  }

  @Override
  public int attempt() {
    return attempt;
  }

  RecordDelivery next(int nextAttempt) {
    return new RecordDelivery(loop, partition, tracked, message, nextAttempt);
  }

  @Override
  public Future<Void> ack() {
    loop.settled(this, true);
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> retry(Duration delay, Throwable cause) {
    loop.retryLater(this, delay, attempt + 1);
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> deadLetter(String deadLetterQueue, String reason, Throwable cause) {
    return loop.deadLetter(this, deadLetterQueue, reason, cause);
  }

  @Override
  public Future<Void> release() {
    loop.settled(this, false);
    return Future.succeededFuture();
  }

  @Override
  public String toString() {
    return partition.tp + "@" + tracked.offset() + " attempt " + attempt;
  }
}
