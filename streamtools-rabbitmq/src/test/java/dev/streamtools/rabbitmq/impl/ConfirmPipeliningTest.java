package dev.streamtools.rabbitmq.impl;

import dev.streamtools.Message;
import dev.streamtools.rabbitmq.RabbitMqSettings;
import dev.streamtools.testkit.Brokers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Confirms are pipelined: many sends are unconfirmed at once, never more than the window. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConfirmPipeliningTest {

  @Test
  void manySendsAreInFlightAtOnceAndNeverMoreThanTheWindow() throws Exception {
    Brokers.requireRabbitMq();
    Vertx vertx = Vertx.vertx();
    String queue = "st-rmq-window-" + java.util.UUID.randomUUID().toString().substring(0, 8);
    JsonObject config = new JsonObject()
      .put(RabbitMqSettings.HOST, Brokers.rabbitMqHost())
      .put(RabbitMqSettings.PORT, Brokers.rabbitMqPort())
      .put(RabbitMqSettings.CONFIRM_WINDOW, 32);
    RabbitMqProducer producer = new RabbitMqProducer(vertx, queue, config);
    try {
      producer.init().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      List<Future<Void>> sends = new ArrayList<>();
      for (int i = 0; i < 2_000; i++) {
        sends.add(producer.send(Message.json(new JsonObject().put("n", i))));
      }
      Future.all(sends).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);

      assertThat(producer.peakUnconfirmed()).as("most sends unconfirmed at once").isBetween(2, 32);
    } finally {
      producer.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      vertx.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      com.rabbitmq.client.ConnectionFactory f = new com.rabbitmq.client.ConnectionFactory();
      f.setHost(Brokers.rabbitMqHost());
      f.setPort(Brokers.rabbitMqPort());
      try (com.rabbitmq.client.Connection c = f.newConnection()) {
        com.rabbitmq.client.Channel ch = c.createChannel();
        ch.queueDelete(queue);
        ch.queueDelete(queue + ".dlq");
      }
    }
  }
}
