package dev.streamtools;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MessageTest {

  record Order(String id, int qty) {
  }

  @Test
  void jsonMessageCarriesTheEncodedValueAndAGeneratedId() {
    Message a = Message.json(new Order("o-1", 3));
    Message b = Message.json(new Order("o-1", 3));

    assertThat(a.id()).isNotBlank().isNotEqualTo(b.id());
    assertThat(java.util.UUID.fromString(a.id()).version()).isEqualTo(4);
    assertThat(java.util.UUID.fromString(a.id()).variant()).isEqualTo(2);
    assertThat(a.contentType()).isEqualTo(Message.APPLICATION_JSON);
    assertThat(a.json()).isEqualTo(new JsonObject().put("id", "o-1").put("qty", 3));
    assertThat(a.as(Order.class)).isEqualTo(new Order("o-1", 3));
    assertThat(a.timestamp()).isNotNull();
  }

  @Test
  void textAndBytesKeepTheirBytes() {
    assertThat(Message.text("héllo").body()).isEqualTo(Buffer.buffer("héllo", "UTF-8"));
    assertThat(Message.text("héllo").as(String.class)).isEqualTo("héllo");
    Buffer raw = Buffer.buffer(new byte[] {0, 1, (byte) 0xff});
    assertThat(Message.of(raw).as(Buffer.class)).isEqualTo(raw);
    assertThat(Message.of(raw).contentType()).isEqualTo(Message.OCTET_STREAM);
  }

  @Test
  void undecodableBodiesFailWithTheMessageIdAndWhatWasWrong() {
    Message notJson = Message.text("{nope");
    assertThatThrownBy(notJson::json).isInstanceOf(MessageDecodeException.class)
      .hasMessageContaining(notJson.id()).hasMessageContaining("not valid JSON");

    Message array = Message.json(new JsonArray().add(1));
    assertThatThrownBy(array::json).isInstanceOf(MessageDecodeException.class).hasMessageContaining("an array");

    Message wrongField = Message.json(new JsonObject().put("id", "x").put("qty", "many"));
    assertThatThrownBy(() -> wrongField.as(Order.class)).isInstanceOf(MessageDecodeException.class)
      .hasMessageContaining("Order");

    Message invalidUtf8 = Message.of(Buffer.buffer(new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xc3, '"', '}'}));
    assertThatThrownBy(invalidUtf8::json).isInstanceOf(MessageDecodeException.class);
  }

  @Test
  void withCopiesLeaveTheOriginalUnchanged() {
    Message original = Message.text("x");
    Message copy = original.withId("id-1").withKey("k").withCorrelationId("c").withHeader("h", "v")
      .withHeaders(Map.of("h2", "v2"));

    assertThat(original.id()).isNotEqualTo("id-1");
    assertThat(original.headers()).isEmpty();
    assertThat(original.key()).isNull();
    assertThat(copy.id()).isEqualTo("id-1");
    assertThat(copy.key()).isEqualTo("k");
    assertThat(copy.correlationId()).isEqualTo("c");
    assertThat(copy.headers()).containsEntry("h", "v").containsEntry("h2", "v2");
    assertThat(copy.body()).isEqualTo(original.body());
    assertThatThrownBy(() -> copy.headers().put("x", "y")).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void eachWithCopyChangesOneFieldAndKeepsTheOthers() {
    Message original = Message.json(new io.vertx.core.json.JsonObject().put("n", 1)).withHeader("h", "v")
      .withKey("k");
    Message copy = original.withQueue("orders").withId("id-2").withCorrelationId("c-2");

    assertThat(copy.queue()).isEqualTo("orders");
    assertThat(copy.id()).isEqualTo("id-2");
    assertThat(copy.correlationId()).isEqualTo("c-2");
    assertThat(copy.key()).isEqualTo("k");
    assertThat(copy.headers()).isEqualTo(Map.of("h", "v"));
    assertThat(copy.timestamp()).isEqualTo(original.timestamp());
    assertThat(copy.contentType()).isEqualTo(Message.APPLICATION_JSON);
    assertThat(copy.json().getInteger("n")).isEqualTo(1);
    assertThat(original.queue()).isNull();
    assertThat(original.withKey(null).key()).isNull();
  }

  @Test
  void aBuiltMessageIsStampedToTheMillisecondOnceAndAGivenTimestampIsKeptAsGiven() {
    Instant before = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    Message stamped = Message.text("x");
    Instant after = Instant.now();

    assertThat(stamped.timestamp()).isBetween(before, after).isEqualTo(stamped.timestamp())
      .isEqualTo(stamped.timestamp().truncatedTo(ChronoUnit.MILLIS));
    assertThat(stamped.withKey("k").timestamp()).isEqualTo(stamped.timestamp());

    Instant given = Instant.parse("2026-12-05T10:15:30.123456789Z");
    Message dated = Message.builder().timestamp(given).build();
    assertThat(dated.timestamp()).isEqualTo(given);
    assertThat(dated.toBuilder().build().timestamp()).isEqualTo(given);
  }
}
