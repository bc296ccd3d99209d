package dev.streamtools.rabbitmq.impl;

import dev.streamtools.ConsumerLoop;
import dev.streamtools.Producer;
import dev.streamtools.Transports;
import dev.streamtools.spi.Transport;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.Set;

/**
 * The {@code rabbitmq} transport, found by {@link java.util.ServiceLoader}; users reach it through
 * {@link Transports#PRODUCERS} and {@link Transports#CONSUMER_LOOPS}. Settings: see
 * {@link dev.streamtools.rabbitmq.RabbitMqSettings}.
 */
public final class RabbitMqTransport implements Transport {

  @Override
  public String name() {
    return Transports.RABBITMQ;
  }

  @Override
  public Set<String> aliases() {
    return Set.of("RMQIOHandler", "RMQHandler");
  }

  @Override
  public Producer createProducer(Vertx vertx, String queue, JsonObject config) {
    return new RabbitMqProducer(vertx, queue, config);
  }

  @Override
  public ConsumerLoop createConsumerLoop(Vertx vertx, String queue, JsonObject config) {
    return new RabbitMqConsumerLoop(vertx, queue, config);
  }
}
