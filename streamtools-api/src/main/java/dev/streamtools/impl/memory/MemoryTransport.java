package dev.streamtools.impl.memory;

import dev.streamtools.ConsumerLoop;
import dev.streamtools.Producer;
import dev.streamtools.Transports;
import dev.streamtools.spi.Transport;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/** The in-process transport: a queue is an event-bus address, a send is a request a consumer answers. */
public final class MemoryTransport implements Transport {

  @Override
  public String name() {
    return Transports.MEMORY;
  }

  @Override
  public Producer createProducer(Vertx vertx, String queue, JsonObject config) {
    return new MemoryProducer(vertx, queue, config);
  }

  @Override
  public ConsumerLoop createConsumerLoop(Vertx vertx, String queue, JsonObject config) {
    return new MemoryConsumerLoop(vertx, queue, config);
  }
}
