package dev.streamtools.http;

import dev.streamtools.Transports;
import dev.streamtools.testkit.Features;
import dev.streamtools.testkit.TransportConformanceSuite;
import dev.streamtools.testkit.TransportUnderTest;
import io.vertx.core.json.JsonObject;

/** The conformance suite over real HTTP on a fresh local port per test. */
class HttpConformanceTest extends TransportConformanceSuite {

  @Override
  protected TransportUnderTest transportUnderTest() {
    Features features = new Features(false, false, false, true, false, false);
    JsonObject config = new JsonObject()
      .put(HttpSettings.HOST, "127.0.0.1")
      .put(HttpSettings.PORT, FreePorts.free());
    return new TransportUnderTest(Transports.HTTP, features, config);
  }
}
