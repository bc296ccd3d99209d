package dev.streamtools.bench.impl;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/** The message bodies every comparison sends: JSON objects of an exact size. */
public final class Payloads {

  private Payloads() {
  }

  /**
   * @param size body size in bytes, at least 64
   * @return a JSON object body of exactly {@code size} bytes, like an order event
   */
  public static Buffer json(int size) {
    JsonObject o = new JsonObject().put("id", "order-000042").put("qty", 3).put("price", 12.5).put("pad", "");
    int missing = size - o.encode().length();
    if (missing < 0) {
      throw new IllegalArgumentException("payload size must be at least " + o.encode().length());
    }
    o.put("pad", "x".repeat(missing));
    Buffer b = o.toBuffer();
    if (b.length() != size) {
      throw new IllegalStateException("payload is " + b.length() + " bytes, wanted " + size);
    }
    return b;
  }
}
