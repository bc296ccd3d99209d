package dev.streamtools.http.impl;

import dev.streamtools.ConsumerLoop;
import dev.streamtools.Producer;
import dev.streamtools.Transports;
import dev.streamtools.spi.Transport;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.Set;

/**
 * The HTTP transport: a producer on vertx-web-client, a consumer loop on a vertx-web route of a server shared
 * per host and port. Settings and wire format: {@link dev.streamtools.http.HttpSettings}.
 */
public final class HttpTransport implements Transport {

  /** For {@link java.util.ServiceLoader}. */
  public HttpTransport() {
  }

  @Override
  public String name() {
    return Transports.HTTP;
  }

  @Override
  public Set<String> aliases() {
    return Set.of("HTTPHandler");
  }

  @Override
  public Producer createProducer(Vertx vertx, String queue, JsonObject config) {
    return new HttpProducer(vertx, queue, config);
  }

  @Override
  public ConsumerLoop createConsumerLoop(Vertx vertx, String queue, JsonObject config) {
    return new HttpConsumerLoop(vertx, queue, config);
  }
}
