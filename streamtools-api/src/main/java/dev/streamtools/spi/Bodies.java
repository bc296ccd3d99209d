package dev.streamtools.spi;

import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

/**
 * A message body as the byte array a client library takes (a Kafka record's value, an AMQP publish's body).
 */
public final class Bodies {

  private Bodies() {
  }

  /**
   * The body's bytes without a copy when the buffer is exactly one heap array, as the buffers of
   * {@code JsonObject.toBuffer()} and {@code Buffer.buffer(byte[])} are; a copy otherwise. A
   * {@link dev.streamtools.Message} is immutable, so nothing writes that array; the caller must only read it
   * (client libraries copy a body into their frames or batches).
   *
   * @param body a message body
   * @return its bytes, to be read and never written
   */
  public static byte[] array(Buffer body) {
    if (body instanceof BufferInternal) {
      // a slice of the readable bytes: its offset in the array is where they start
      ByteBuf b = ((BufferInternal) body).getByteBuf();
      if (b.hasArray() && b.arrayOffset() == 0 && b.array().length == b.readableBytes()) {
        return b.array();
      }
    }
    return body.getBytes();
  }
}
