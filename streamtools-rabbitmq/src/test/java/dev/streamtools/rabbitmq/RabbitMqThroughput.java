package dev.streamtools.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import dev.streamtools.ConsumerLoop;
import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.RouteOptions;
import dev.streamtools.Transports;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A plain harness (not a test: speed is never asserted): publishes and consumes N persistent 100-byte
 * messages with the raw amqp-client and with streamtools, same broker, same settings (confirm window, default
 * 192; prefetch 200), same run, and prints messages per second and the ratio.
 *
 * <p>Run: {@code java -cp <test classpath> dev.streamtools.rabbitmq.RabbitMqThroughput [messages] [window] [rounds]}.
 */
public final class RabbitMqThroughput {

  private static int window = 192;
  private static final int PREFETCH = 200;
  private static final byte[] BODY = new byte[100];

  private RabbitMqThroughput() {
  }

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
    window = args.length > 1 ? Integer.parseInt(args[1]) : 192;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    Vertx vertx = Vertx.vertx();
    try {
      round(vertx, Math.min(n, 10_000)); // warm-up, not reported
      double[][] r = new double[4][rounds];
      for (int i = 0; i < rounds; i++) {
        double[] one = round(vertx, n);
        for (int k = 0; k < 4; k++) {
          r[k][i] = one[k];
        }
      }
      // raw and streamtools alternate within each round, so both see the same background load; medians
      System.out.printf("%d persistent messages of %d bytes, confirm window %d, prefetch %d, median of %d rounds%n",
        n, BODY.length, window, PREFETCH, rounds);
      System.out.printf("publish (confirmed): raw amqp-client %.0f msg/s, streamtools %.0f msg/s, ratio %.2f%n",
        median(r[0]), median(r[1]), median(r[1]) / median(r[0]));
      System.out.printf("consume (acked):     raw amqp-client %.0f msg/s, streamtools %.0f msg/s, ratio %.2f%n",
        median(r[2]), median(r[3]), median(r[3]) / median(r[2]));
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private static double median(double[] values) {
    double[] v = values.clone();
    java.util.Arrays.sort(v);
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  private static double[] round(Vertx vertx, int n) throws Exception {
    String rawQueue = "st-rmq-bench-raw-" + UUID.randomUUID().toString().substring(0, 8);
    String stQueue = "st-rmq-bench-st-" + UUID.randomUUID().toString().substring(0, 8);
    try {
      double rawPub = rawPublish(rawQueue, n);
      double stPub = streamtoolsPublish(vertx, stQueue, n);
      double rawCon = rawConsume(rawQueue, n);
      double stCon = streamtoolsConsume(vertx, stQueue, n);
      return new double[] {rawPub, stPub, rawCon, stCon};
    } finally {
      Rmq.deleteQueues(rawQueue, stQueue);
    }
  }

  private static double rawPublish(String queue, int n) throws Exception {
    try (Connection c = Rmq.plainConnection()) {
      Channel ch = c.createChannel();
      ch.queueDeclare(queue, true, false, false, null);
      ch.confirmSelect();
      Semaphore slots = new Semaphore(window);
      CountDownLatch done = new CountDownLatch(n);
      java.util.concurrent.ConcurrentSkipListSet<Long> outstanding = new java.util.concurrent.ConcurrentSkipListSet<>();
      ch.addConfirmListener((tag, multiple) -> release(outstanding, tag, multiple, slots, done),
        (tag, multiple) -> release(outstanding, tag, multiple, slots, done));
      AMQP.BasicProperties props = new AMQP.BasicProperties.Builder().deliveryMode(2).build();
      long start = System.nanoTime();
      for (int i = 0; i < n; i++) {
        slots.acquire();
        outstanding.add(ch.getNextPublishSeqNo());
        ch.basicPublish("", queue, true, props, BODY);
      }
      done.await(5, TimeUnit.MINUTES);
      return n / ((System.nanoTime() - start) / 1e9);
    }
  }

  private static void release(java.util.concurrent.ConcurrentSkipListSet<Long> outstanding, long tag, boolean multiple,
                              Semaphore slots, CountDownLatch done) {
    if (multiple) {
      java.util.NavigableSet<Long> head = outstanding.headSet(tag, true);
      int k = 0;
      while (head.pollFirst() != null) {
        k++;
      }
      slots.release(k);
      for (int i = 0; i < k; i++) {
        done.countDown();
      }
    } else if (outstanding.remove(tag)) {
      slots.release();
      done.countDown();
    }
  }

  private static double streamtoolsPublish(Vertx vertx, String queue, int n) throws Exception {
    Producer producer = Transports.PRODUCERS.get(Transports.RABBITMQ).create(vertx, queue,
      Rmq.config().put(RabbitMqSettings.CONFIRM_WINDOW, window));
    Rmq.join(producer.init());
    long start = System.nanoTime();
    List<Future<Void>> sends = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      sends.add(producer.send(Message.of(Buffer.buffer(BODY))));
    }
    Future.all(sends).toCompletionStage().toCompletableFuture().get(5, TimeUnit.MINUTES);
    double rate = n / ((System.nanoTime() - start) / 1e9);
    Rmq.join(producer.close());
    return rate;
  }

  private static double rawConsume(String queue, int n) throws Exception {
    try (Connection c = Rmq.plainConnection()) {
      Channel ch = c.createChannel();
      ch.basicQos(PREFETCH);
      CountDownLatch done = new CountDownLatch(n);
      long start = System.nanoTime();
      ch.basicConsume(queue, false, new DefaultConsumer(ch) {
        @Override
        public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body)
          throws java.io.IOException {
          ch.basicAck(envelope.getDeliveryTag(), false);
          done.countDown();
        }
      });
      done.await(5, TimeUnit.MINUTES);
      return n / ((System.nanoTime() - start) / 1e9);
    }
  }

  private static double streamtoolsConsume(Vertx vertx, String queue, int n) throws Exception {
    ConsumerLoop loop = Transports.CONSUMER_LOOPS.get(Transports.RABBITMQ).create(vertx, queue, Rmq.config());
    Rmq.join(loop.init()); // connected and declared, as the raw consumer's connection is before its clock starts
    CountDownLatch done = new CountDownLatch(n);
    AtomicInteger seen = new AtomicInteger();
    long start = System.nanoTime();
    Rmq.join(loop.start(m -> {
      seen.incrementAndGet();
      done.countDown();
      return Future.succeededFuture();
    }, RouteOptions.defaults().maxInFlight(PREFETCH)));
    done.await(5, TimeUnit.MINUTES);
    double rate = n / ((System.nanoTime() - start) / 1e9);
    Rmq.join(loop.close());
    return rate;
  }
}
