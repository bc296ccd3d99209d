package dev.streamtools.runner.example;

import dev.streamtools.ConsumerFactory;
import dev.streamtools.Transports;
import dev.streamtools.runner.ConsumerRunner;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The example service of the design's section 2, made real: queue {@value #QUEUE_1} takes any JSON
 * message, queue {@value #ORDERS} takes {@link Order}s decoded from JSON. Its {@link #main(String[])} is
 * the design's snippet; {@code dev.streamtools.runner.Main} runs the same routes with a demo producer.
 *
 * <p>The handlers log each message and count it; they are thread safe.
 */
public final class OrdersService {

  /** The untyped queue. */
  public static final String QUEUE_1 = "queue_1";
  /** The typed queue. */
  public static final String ORDERS = "orders";

  private static final Logger LOG = LoggerFactory.getLogger(OrdersService.class);

  /**
   * An order, the JSON body of a message on {@value #ORDERS}: {@code {"id":"o-1","qty":3}}.
   *
   * @param id the order id
   * @param qty the quantity
   */
  public record Order(String id, int qty) {
  }

  private final AtomicLong handled = new AtomicLong();

  /**
   * Runs the service on {@code QUEUE_TYPE} (default http) and port 9000 until SIGTERM or SIGINT.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    ConsumerFactory consumers = new ConsumerFactory(Transports.queueType(), 9000);
    new OrdersService().routes(consumers);
    new ConsumerRunner(consumers.instances(), consumers.handlers(), 9000, "0.0.0.0").run();
  }

  /**
   * Routes the service's two queues.
   *
   * @param consumers the factory to route on
   * @return {@code consumers}
   */
  public ConsumerFactory routes(ConsumerFactory consumers) {
    consumers.route(QUEUE_1, msg -> {          // MessageHandler: Message -> Future<Void>
      LOG.info("handled {} message {}: {}", QUEUE_1, msg.id(), msg.json());
      handled.incrementAndGet();
      return Future.succeededFuture();         // success = ack; failure = failure policy
    });
    consumers.route(ORDERS, Order.class, order -> {   // typed: JSON -> record
      LOG.info("handled order {} x{}", order.id(), order.qty());
      handled.incrementAndGet();
      return Future.succeededFuture();
    });
    return consumers;
  }

  /** @return how many messages the handlers have handled, on both queues */
  public long handled() {
    return handled.get();
  }
}
