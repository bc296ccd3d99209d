package dev.streamtools.testkit;

import io.vertx.core.json.JsonObject;

/**
 * The transport a conformance suite subclass tests.
 *
 * @param name the transport name in {@link dev.streamtools.Transports}
 * @param features what it promises
 * @param config settings given to every producer and consumer loop the suite creates (broker address,
 *     ports); the suite adds nothing of its own
 */
public record TransportUnderTest(String name, Features features, JsonObject config) {
}
