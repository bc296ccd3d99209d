package dev.streamtools.testkit;

import dev.streamtools.Transports;
import io.vertx.core.json.JsonObject;

/** The memory transport lives in streamtools-api, which cannot depend on the testkit: it is tested here. */
class MemoryConformanceTest extends TransportConformanceSuite {

  @Override
  protected TransportUnderTest transportUnderTest() {
    return new TransportUnderTest(Transports.MEMORY,
      new Features(false, true, true, false, true, false), new JsonObject());
  }
}
