package dev.streamtools.kafka.impl;

import dev.streamtools.Message;
import dev.streamtools.MessageHeaders;
import dev.streamtools.impl.ReceivedMessages;
import dev.streamtools.impl.WireFields;
import dev.streamtools.spi.Bodies;
import io.vertx.core.buffer.Buffer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a message travels in a Kafka record, with no wrapper: the value is the body, the key the message key,
 * the record timestamp its timestamp, and the metadata plain UTF-8 record headers ({@code message-id},
 * {@code content-type}, {@code correlation-id}, then the user's headers) that any Kafka client can read.
 */
final class KafkaWire {

  // The content types Message's factories set, encoded once and shared by every record: the producer only reads
  // a header's value, copying it into the batch.
  private static final Map<String, byte[]> ENCODED_CONTENT_TYPES = Map.of(
    Message.APPLICATION_JSON, utf8(Message.APPLICATION_JSON),
    Message.TEXT_PLAIN, utf8(Message.TEXT_PLAIN),
    Message.OCTET_STREAM, utf8(Message.OCTET_STREAM));

  private KafkaWire() {
  }

  static ProducerRecord<byte[], byte[]> record(String topic, Message m, String key, Integer partition,
                                               Map<String, String> extraHeaders) {
    RecordHeaders headers = new RecordHeaders();
    headers.add(MessageHeaders.MESSAGE_ID, utf8(m.id()));
    if (m.contentType() != null) {
      byte[] contentType = ENCODED_CONTENT_TYPES.get(m.contentType());
      headers.add(MessageHeaders.CONTENT_TYPE, contentType != null ? contentType : utf8(m.contentType()));
    }
    if (m.correlationId() != null) {
      headers.add(MessageHeaders.CORRELATION_ID, utf8(m.correlationId()));
    }
    // Most messages have no headers of their own: forEach on an empty Map.of() still allocates an iterator
    if (!m.headers().isEmpty()) {
      m.headers().forEach((k, v) -> {
        if (!isReserved(k)) {
          headers.add(k, utf8(v));
        }
      });
    }
    if (!extraHeaders.isEmpty()) {
      extraHeaders.forEach((k, v) -> {
        if (!isReserved(k)) {
          headers.remove(k);
          headers.add(k, utf8(v));
        }
      });
    }
    return new ProducerRecord<>(topic, partition, m.timestamp().toEpochMilli(), key == null ? null : utf8(key),
      Bodies.array(m.body()), headers);
  }

  /**
   * @param r the record
   * @param idPrefix {@link #idPrefix} of the record's partition
   * @return the message, its fields decoded from the record when a handler first reads them
   */
  static Message message(ConsumerRecord<byte[], byte[]> r, String idPrefix) {
    return ReceivedMessages.of(r.topic(), new RecordFields(r, idPrefix));
  }

  /** A record's message fields, as {@link #record} wrote them or a plain client did. */
  private static final class RecordFields extends WireFields {
    private final ConsumerRecord<byte[], byte[]> record;
    private final String idPrefix;
    // the time of receipt, for the rare record without a timestamp
    private final Instant receivedAt;

    RecordFields(ConsumerRecord<byte[], byte[]> record, String idPrefix) {
      this.record = record;
      this.idPrefix = idPrefix;
      this.receivedAt = record.timestampType() != TimestampType.NO_TIMESTAMP_TYPE && record.timestamp() >= 0
        ? null : Instant.now();
    }

    @Override
    protected Buffer decodeBody() {
      return record.value() == null ? Buffer.buffer() : Buffer.buffer(record.value());
    }

    @Override
    protected String decodeKey() {
      return record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
    }

    @Override
    protected Instant decodeTimestamp() {
      return receivedAt != null ? receivedAt : Instant.ofEpochMilli(record.timestamp());
    }

    // Under this object's lock: Kafka's RecordHeader decodes its key and value lazily and unsafely (a second
    // thread can find the buffer already dropped), and a message may be read from two threads at once.
    @Override
    protected synchronized Headers decodeHeaders() {
      String id = null;
      String contentType = null;
      String correlationId = null;
      Map<String, String> user = null;
      for (Header h : record.headers()) {
        String value = h.value() == null ? "" : new String(h.value(), StandardCharsets.UTF_8);
        switch (h.key()) {
          case MessageHeaders.MESSAGE_ID:
            id = value;
            break;
          case MessageHeaders.CONTENT_TYPE:
            contentType = value;
            break;
          case MessageHeaders.CORRELATION_ID:
            correlationId = value;
            break;
          default:
            if (user == null) {
              user = new LinkedHashMap<>();
            }
            user.put(h.key(), value);
        }
      }
      // A record from a plain client has no id: its coordinates are stable across redeliveries, so a
      // handler that deduplicates by id still recognises a redelivered record.
      return new Headers(id != null && !id.isEmpty() ? id : idPrefix + record.offset(), contentType, correlationId,
        user == null ? Map.of() : Collections.unmodifiableMap(user));
    }
  }

  /**
   * @return what the id of a record without a message-id header starts with: {@code <topic>-<partition>-}, made
   *     once per partition (building it per record was a tenth of the loop's time on a backlog of such records)
   */
  static String idPrefix(TopicPartition tp) {
    return tp.topic() + "-" + tp.partition() + "-";
  }

  private static boolean isReserved(String name) {
    return name.equals(MessageHeaders.MESSAGE_ID) || name.equals(MessageHeaders.CONTENT_TYPE)
      || name.equals(MessageHeaders.CORRELATION_ID);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
