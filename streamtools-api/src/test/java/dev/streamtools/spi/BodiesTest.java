package dev.streamtools.spi;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class BodiesTest {

  @Test
  void aBodyThatIsExactlyOneArrayIsNotCopied() {
    Buffer json = new JsonObject().put("id", 42).toBuffer();

    assertThat(Bodies.array(json)).isSameAs(Bodies.array(json)).isEqualTo(json.getBytes());
  }

  @Test
  void aBodyWithRoomToGrowOrASliceIsCopiedWithExactlyItsBytes() {
    Buffer grown = Buffer.buffer(64).appendString("grown");
    Buffer slice = Buffer.buffer("0123456789").slice(2, 5);

    assertThat(Bodies.array(grown)).isNotSameAs(Bodies.array(grown))
      .isEqualTo("grown".getBytes(StandardCharsets.UTF_8));
    assertThat(Bodies.array(slice)).isEqualTo("234".getBytes(StandardCharsets.UTF_8));
    assertThat(Bodies.array(Buffer.buffer())).isEmpty();
  }
}
