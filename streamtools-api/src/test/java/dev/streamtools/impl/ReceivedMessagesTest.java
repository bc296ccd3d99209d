package dev.streamtools.impl;

import dev.streamtools.Message;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class ReceivedMessagesTest {

  /** A record's fields that count how often each is decoded. */
  private static final class CountingFields extends WireFields {
    final AtomicInteger bodies = new AtomicInteger();
    final AtomicInteger keys = new AtomicInteger();
    final AtomicInteger timestamps = new AtomicInteger();
    final AtomicInteger headers = new AtomicInteger();

    @Override
    protected Buffer decodeBody() {
      bodies.incrementAndGet();
      return Buffer.buffer("{\"n\":1}");
    }

    @Override
    protected String decodeKey() {
      keys.incrementAndGet();
      return "k-1";
    }

    @Override
    protected Instant decodeTimestamp() {
      timestamps.incrementAndGet();
      return Instant.ofEpochMilli(1_700_000_000_000L);
    }

    @Override
    protected Headers decodeHeaders() {
      headers.incrementAndGet();
      return new Headers("id-1", Message.APPLICATION_JSON, "corr-1", Map.of("tenant", "t1"));
    }
  }

  @Test
  void aHandlerThatReadsOnlyTheBodyDecodesNothingElse() {
    CountingFields fields = new CountingFields();
    Message m = ReceivedMessages.of("orders", fields);

    assertThat(m.queue()).isEqualTo("orders");
    assertThat(m.json()).isEqualTo(new JsonObject().put("n", 1));

    assertThat(fields.bodies).hasValue(1);
    assertThat(fields.keys).hasValue(0);
    assertThat(fields.timestamps).hasValue(0);
    assertThat(fields.headers).hasValue(0);
  }

  @Test
  void eachFieldIsDecodedOnceHoweverOftenItIsRead() {
    CountingFields fields = new CountingFields();
    Message m = ReceivedMessages.of("orders", fields);

    for (int i = 0; i < 3; i++) {
      assertThat(m.id()).isEqualTo("id-1");
      assertThat(m.contentType()).isEqualTo(Message.APPLICATION_JSON);
      assertThat(m.correlationId()).isEqualTo("corr-1");
      assertThat(m.headers()).containsExactly(Map.entry("tenant", "t1"));
      assertThat(m.header("tenant")).isEqualTo("t1");
      assertThat(m.key()).isEqualTo("k-1");
      assertThat(m.timestamp()).isEqualTo(Instant.ofEpochMilli(1_700_000_000_000L));
      assertThat(m.as(String.class)).isEqualTo("{\"n\":1}");
    }

    assertThat(fields.headers).hasValue(1);
    assertThat(fields.keys).hasValue(1);
    assertThat(fields.timestamps).hasValue(1);
    assertThat(fields.bodies).hasValue(1);
    assertThat(m.body()).isSameAs(m.body());
  }

  @Test
  void copiesCarryTheDecodedFields() {
    Message m = ReceivedMessages.of("orders", new CountingFields());

    Message copy = m.withKey("k-2");
    assertThat(copy.key()).isEqualTo("k-2");
    assertThat(copy.id()).isEqualTo("id-1");
    assertThat(copy.correlationId()).isEqualTo("corr-1");
    assertThat(copy.headers()).containsExactly(Map.entry("tenant", "t1"));
    assertThat(copy.timestamp()).isEqualTo(m.timestamp());
    assertThat(copy.body()).isEqualTo(m.body());
    assertThat(copy.queue()).isEqualTo("orders");

    Message rebuilt = m.toBuilder().header("region", "eu").build();
    assertThat(rebuilt.headers()).containsExactly(Map.entry("tenant", "t1"), Map.entry("region", "eu"));
    assertThat(rebuilt.id()).isEqualTo("id-1");
    assertThat(rebuilt.contentType()).isEqualTo(Message.APPLICATION_JSON);
    assertThat(m.toString()).contains("id-1", "orders", "k-1", "bytes=7", "tenant");
  }

  @Test
  void threadsReadingTheBodyAtOnceShareOneBuffer() throws Exception {
    int threads = 4;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int round = 0; round < 200; round++) {
        CountingFields fields = new CountingFields();
        Message m = ReceivedMessages.of("orders", fields);
        CyclicBarrier start = new CyclicBarrier(threads);
        Callable<Buffer> read = () -> {
          start.await(10, TimeUnit.SECONDS);
          return m.body();
        };
        List<Future<Buffer>> reads = pool.invokeAll(List.of(read, read, read, read));
        Buffer first = reads.get(0).get();
        for (Future<Buffer> r : reads) {
          assertThat(r.get()).isSameAs(first);
        }
        // racing first readers may each decode one; the first installed is the one every reader gets
        assertThat(m.body()).isSameAs(first);
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
