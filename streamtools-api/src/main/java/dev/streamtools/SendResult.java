package dev.streamtools;

/**
 * What the transport reported when it took a message.
 *
 * @param transport the transport name
 * @param queue the destination queue (topic)
 * @param messageId the id of the message taken
 * @param partition the Kafka partition, or -1 where the protocol has none
 * @param offset the Kafka offset, or -1 where the protocol has none
 */
public record SendResult(String transport, String queue, String messageId, int partition, long offset) {

  /**
   * @param transport the transport name
   * @param queue the destination queue
   * @param messageId the id of the message taken
   * @return a result without partition and offset
   */
  public static SendResult of(String transport, String queue, String messageId) {
    return new SendResult(transport, queue, messageId, -1, -1L);
  }
}
