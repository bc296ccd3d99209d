import dev.streamtools.ConsumerFactory;
import dev.streamtools.Transports;
import dev.streamtools.runner.ConsumerRunner;
import io.vertx.core.Future;

public final class OrdersService {
  record Order(String id, int qty) {}

  public static void main(String[] args) {
    ConsumerFactory consumers = new ConsumerFactory(Transports.queueType(), 9000);

    consumers.route("queue_1", msg -> {          // MessageHandler: Message -> Future<Void>
      System.out.println(msg.json());
      return Future.succeededFuture();           // success = ack; failure = failure policy
    });
    consumers.route("orders", Order.class, order -> {                // typed: JSON -> record
      System.out.println(order.id() + " x" + order.qty());
      return Future.succeededFuture();
    });

    new ConsumerRunner(consumers.instances(), consumers.handlers(), 9000, "0.0.0.0").run();
  }
}
