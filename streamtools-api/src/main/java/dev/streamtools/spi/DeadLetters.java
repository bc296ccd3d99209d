package dev.streamtools.spi;

import dev.streamtools.Message;
import dev.streamtools.MessageHeaders;

/** Builds the message a transport stores in a dead-letter queue: the original plus why it failed. */
public final class DeadLetters {

  private DeadLetters() {
  }

  /**
   * @param original the message that failed, with its id, key, body and headers kept
   * @param transport the transport it failed on
   * @param queue the queue it failed on
   * @param attempts how many deliveries were attempted
   * @param reason why it is dead-lettered
   * @param cause the last failure, or {@code null}
   * @return the dead letter, addressed to nothing: the transport sends it to the dead-letter queue
   */
  public static Message of(Message original, String transport, String queue, int attempts, String reason,
                           Throwable cause) {
    Message.Builder b = original.toBuilder()
      .header(MessageHeaders.DEAD_LETTER_REASON, truncate(reason))
      .header(MessageHeaders.DEAD_LETTER_QUEUE, queue)
      .header(MessageHeaders.DEAD_LETTER_TRANSPORT, transport)
      .header(MessageHeaders.DEAD_LETTER_ATTEMPTS, Integer.toString(attempts))
      .header(MessageHeaders.ATTEMPT, null);
    if (cause != null) {
      b.header(MessageHeaders.DEAD_LETTER_EXCEPTION, cause.getClass().getName());
    }
    return b.build();
  }

  // Protocol headers have size limits (Kafka record, AMQP frame); a reason is for people, 1 KiB is plenty.
  private static String truncate(String reason) {
    String r = reason == null ? "unknown" : reason;
    return r.length() <= 1024 ? r : r.substring(0, 1021) + "...";
  }
}
