package dev.streamtools.kafka.impl;

import dev.streamtools.Message;
import dev.streamtools.MessageHeaders;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class KafkaWireTest {

  private static ByteBuffer utf8(String s) {
    return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  /** A record as the consumer hands it over: headers still undecoded byte buffers. */
  private static ConsumerRecord<byte[], byte[]> fetched(long offset) {
    RecordHeaders headers = new RecordHeaders();
    headers.add(new RecordHeader(utf8(MessageHeaders.MESSAGE_ID), utf8("id-" + offset)));
    headers.add(new RecordHeader(utf8(MessageHeaders.CONTENT_TYPE), utf8(Message.APPLICATION_JSON)));
    headers.add(new RecordHeader(utf8("tenant"), utf8("t1")));
    // more headers make the threads' decoding overlap longer
    for (int i = 0; i < 40; i++) {
      headers.add(new RecordHeader(utf8("trace-" + i), utf8("value-" + i)));
    }
    return new ConsumerRecord<>("orders", 0, offset, 1_700_000_000_000L, TimestampType.CREATE_TIME, 1, 2,
      "k".getBytes(StandardCharsets.UTF_8), "{}".getBytes(StandardCharsets.UTF_8), headers, Optional.empty());
  }

  @Test
  void aReceivedMessageReadsItsHeadersFromSeveralThreadsAtOnce() throws Exception {
    int threads = 4;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (long offset = 0; offset < 5_000; offset++) {
        Message m = KafkaWire.message(fetched(offset), "orders-0-");
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Future<String>> reads = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          reads.add(pool.submit(() -> {
            start.await(10, TimeUnit.SECONDS);
            return m.id() + " " + m.contentType() + " " + m.header("tenant");
          }));
        }
        for (Future<String> r : reads) {
          assertThat(r.get(10, TimeUnit.SECONDS)).isEqualTo("id-" + offset + " application/json t1");
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
