package dev.streamtools.bench.impl;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import dev.streamtools.ConsumerLoop;
import dev.streamtools.FailurePolicy;
import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.RouteOptions;
import dev.streamtools.Transports;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * RabbitMQ: the streamtools producer and consumer loop against amqp-client (the client streamtools itself uses)
 * with the same confirm window, persistence, message properties, prefetch and ack batching.
 */
public final class RabbitBench {

  private static final Logger LOG = LoggerFactory.getLogger(RabbitBench.class);
  /** Publisher-confirm window of both sides (issue 5, and the RMQ_CONFIRM_WINDOW default). */
  static final int CONFIRM_WINDOW = 192;
  /** Prefetch of both consume sides (streamtools: maxInFlight, which it uses as its prefetch). */
  static final int PREFETCH = 200;
  /**
   * The raw consumer acks with multiple=true every this many deliveries (RabbitMQ PerfTest's --multi-ack-every).
   * The streamtools loop acks each turn's handled deliveries, with multiple=true where no older delivery is
   * unsettled: 6 deliveries per ack in this comparison's slow rounds, 9 to 13 in its fast ones (counted on 5
   * rounds).
   */
  static final int ACK_EVERY = 10;
  /**
   * Measured rounds per side of the backlog comparisons, whatever {@code --rounds} says: the broker drains a
   * backlog in one of two modes whose rates are 2 to 2.5 times apart, whichever client drains it, so a pair whose
   * rounds land in different modes gives 0.4 or 2.5; with five pairs the median was left to which pairs split.
   */
  static final int BACKLOG_ROUNDS = 11;
  /** The queue argument that makes a classic queue store its messages in version 2's format. */
  static final Map<String, Object> CLASSIC_V2 = Map.of("x-queue-version", 2);
  static final AMQP.BasicProperties PERSISTENT_JSON = new AMQP.BasicProperties.Builder().deliveryMode(2)
    .contentType("application/json").build();
  /** The header carrying the timestamp's milliseconds (RabbitMQ's message-timestamp plugin's name). */
  static final String TIMESTAMP_IN_MS = "timestamp_in_ms";
  private static volatile String serverVersion;

  private RabbitBench() {
  }

  /** @return the RabbitMQ server version a raw connection reported, or {@code null} if none was made */
  public static String serverVersion() {
    return serverVersion;
  }

  /**
   * @param vertx the run's Vert.x
   * @param o options
   * @return the RabbitMQ comparisons
   */
  public static List<Comparison> comparisons(Vertx vertx, BenchOptions o) {
    String publish = "100 B persistent to a durable classic queue, publisher confirms, window " + CONFIRM_WINDOW
      + ", mandatory";
    String same = "; the raw side publishes the properties streamtools publishes (message id, timestamp, "
      + "timestamp_in_ms header)";
    String bare = "; the raw side publishes delivery mode and content type alone: what the other properties cost "
      + "the broker";
    return List.of(
      new Comparison("rabbitmq.publish", publish + same, Goal.throughput(0.90), new RawPublish(o, true),
        new StPublish(vertx, o), true).inSlices(),
      new Comparison("rabbitmq.publish.bare", publish + bare, Goal.none(), new RawPublish(o, false),
        new StPublish(vertx, o), true).inSlices(),
      new Comparison("rabbitmq.consume", "backlog of " + o.rmqBacklog + " x 100 B persistent, prefetch " + PREFETCH
        + ", acks with multiple=true (raw: every " + ACK_EVERY + " deliveries); time from first to last delivery; "
        + "at least " + BACKLOG_ROUNDS + " measured rounds per side, as the broker drains a backlog in one of two "
        + "modes 2-2.5 times apart in rate", Goal.throughput(0.90),
        new RawConsume(o), new StConsume(vertx, o), false, BACKLOG_ROUNDS),
      new Comparison("rabbitmq.consume.raw-vs-raw", "the backlog above and as many rounds; both sides are the raw "
        + "consumer, each with its own queue (the streamtools column is the second raw consumer): the spread of a "
        + "ratio that is 1 by construction", Goal.none(), new RawConsume(o), new RawConsume(o), false, BACKLOG_ROUNDS),
      new Comparison("rabbitmq.consume.vertx-client", "the backlog above and as many rounds; the raw side is "
        + "vertx-rabbitmq-client used directly: what running amqp-client behind an event loop costs", Goal.none(),
        new VertxRabbitClientSides.Consume(vertx, o), new StConsume(vertx, o), false, BACKLOG_ROUNDS),
      new Comparison("rabbitmq.consume.classic-v2", "the backlog above and as many rounds, both queues classic queues "
        + "of version 2 (x-queue-version 2: the storage RabbitMQ recommends from 3.13 and the only one from 4.3), "
        + "which this broker drains at one rate", Goal.none(), new RawConsume(o, CLASSIC_V2),
        new StConsume(vertx, o, CLASSIC_V2), false, BACKLOG_ROUNDS),
      new Comparison("rabbitmq.rtt", "100 B persistent, confirms: publish, then wait for the confirm and the "
        + "delivery (acked), one at a time; prefetch 64; streamtools' producer and consumer loop share an event "
        + "loop, as one verticle's do" + same, Goal.throughput(0.90), new RawRtt(o),
        new StRtt(vertx, o), true).inSlices(),
      new Comparison("rabbitmq.rtt.vertx-client", "100 B persistent, confirms, one at a time, as above; the raw side "
        + "is vertx-rabbitmq-client used directly: what running amqp-client behind an event loop costs", Goal.none(),
        new VertxRabbitClientSides.Rtt(vertx, o), new StRtt(vertx, o), true).inSlices());
  }

  static ConnectionFactory factory() {
    ConnectionFactory f = new ConnectionFactory();
    f.setHost(env("RMQ_HOST", "127.0.0.1"));
    f.setPort(Integer.parseInt(env("RMQ_PORT", "5672")));
    f.setUsername(env("RMQ_USER", "guest"));
    f.setPassword(env("RMQ_PASS", "guest"));
    f.setVirtualHost(env("RMQ_VHOST", "/"));
    f.setAutomaticRecoveryEnabled(false);
    return f;
  }

  static JsonObject streamtoolsConfig() {
    JsonObject c = new JsonObject().put("RMQ_CONFIRM_WINDOW", CONFIRM_WINDOW);
    for (String k : List.of("RMQ_HOST", "RMQ_PORT", "RMQ_USER", "RMQ_PASS", "RMQ_VHOST")) {
      String v = System.getenv(k);
      if (v != null) {
        c.put(k, v);
      }
    }
    return c;
  }

  private static String env(String name, String def) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? def : v;
  }

  /**
   * The properties a streamtools producer puts on every message (AmqpWire): a new message id, the timestamp (AMQP
   * keeps seconds) and its milliseconds in the {@code timestamp_in_ms} header. Each costs the broker per message:
   * the raw side publishing them too measures the client, not the message (rabbitmq.publish.bare shows the cost).
   */
  static AMQP.BasicProperties sameProperties() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long now = System.currentTimeMillis();
    return new AMQP.BasicProperties.Builder().deliveryMode(2).contentType(Message.APPLICATION_JSON)
      .messageId(new UUID(random.nextLong(), random.nextLong()).toString()).timestamp(new Date(now))
      .headers(Map.of(TIMESTAMP_IN_MS, now)).build();
  }

  static Connection connect(String name) throws Exception {
    Connection c = factory().newConnection("streamtools-bench " + name);
    Object v = c.getServerProperties().get("version");
    if (v != null) {
      serverVersion = v.toString();
    }
    return c;
  }

  /** Declares a durable queue on a channel of its own, closed afterwards. */
  static void declareDurable(Connection c, String queue, Map<String, Object> arguments) throws Exception {
    try (Channel ch = c.createChannel()) {
      ch.queueDeclare(queue, true, false, false, arguments);
    }
  }

  /** Deletes queues, each on its own channel: a missing queue may close the channel it was deleted on. */
  static void deleteQuietly(Connection c, String... queues) {
    for (String q : queues) {
      try {
        Channel ch = c.createChannel();
        ch.queueDelete(q);
        ch.close();
      } catch (Exception e) {
        LOG.debug("deleting {}: {}", q, e.toString());
      }
    }
  }

  static String queue(String what) {
    return "bench-" + what + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** A channel in confirm mode that completes each publish's callback on its confirm. One publishing thread. */
  static final class ConfirmingChannel {
    final Channel channel;
    private final ConcurrentNavigableMap<Long, Consumer<Throwable>> pending = new ConcurrentSkipListMap<>();

    ConfirmingChannel(Connection c) throws IOException {
      channel = c.createChannel();
      channel.confirmSelect();
      channel.addConfirmListener((tag, multiple) -> settle(tag, multiple, null),
        (tag, multiple) -> settle(tag, multiple, new IOException("broker nacked publish " + tag)));
      channel.addReturnListener(r -> LOG.warn("message returned by the broker: {} {}", r.getReplyCode(),
        r.getReplyText()));
    }

    void publish(String queue, byte[] body, Consumer<Throwable> done) throws IOException {
      publish(queue, PERSISTENT_JSON, body, done);
    }

    void publish(String queue, AMQP.BasicProperties props, byte[] body, Consumer<Throwable> done) throws IOException {
      pending.put(channel.getNextPublishSeqNo(), done);
      channel.basicPublish("", queue, true, props, body);
    }

    private void settle(long tag, boolean multiple, Throwable err) {
      if (multiple) {
        var head = pending.headMap(tag, true);
        head.values().forEach(c -> c.accept(err));
        head.clear();
      } else {
        Consumer<Throwable> c = pending.remove(tag);
        if (c != null) {
          c.accept(err);
        }
      }
    }
  }

  /** Publishes {@code count} persistent 100 B messages to {@code queue} and waits for every confirm. */
  static void fill(Connection c, String queue, int count) throws Exception {
    byte[] body = Payloads.json(100).getBytes();
    ConfirmingChannel ch = new ConfirmingChannel(c);
    Semaphore window = new Semaphore(CONFIRM_WINDOW);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    try {
      for (int i = 0; i < count; i++) {
        if (!window.tryAcquire(60, TimeUnit.SECONDS)) {
          throw new IllegalStateException("no confirm for 60 s while filling " + queue);
        }
        ch.publish(queue, body, e -> {
          if (e != null) {
            failure.compareAndSet(null, e);
          }
          window.release();
        });
      }
      if (!window.tryAcquire(CONFIRM_WINDOW, 60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("confirms missing 60 s after filling " + queue);
      }
    } finally {
      ch.channel.close();
    }
    if (failure.get() != null) {
      throw new IllegalStateException("filling " + queue + " failed", failure.get());
    }
  }

  private static final class RawPublish implements Side {
    private final BenchOptions o;
    private final boolean sameProperties;
    private final byte[] body = Payloads.json(100).getBytes();
    private final String queue = queue("publish-raw");
    private Connection connection;
    private ConfirmingChannel channel;
    private Channel admin;

    RawPublish(BenchOptions o, boolean sameProperties) {
      this.o = o;
      this.sameProperties = sameProperties;
    }

    @Override
    public String label() {
      return "amqp-client Channel.basicPublish + ConfirmListener, semaphore window"
        + (sameProperties ? "; each message with a new id, a timestamp and the timestamp_in_ms header" : "");
    }

    @Override
    public void open() throws Exception {
      connection = connect("publish");
      admin = connection.createChannel();
      admin.queueDeclare(queue, true, false, false, null);
      channel = new ConfirmingChannel(connection);
    }

    @Override
    public RoundResult round(int index, long durationNanos) throws Exception {
      RoundResult r = ThreadWindow.run(CONFIRM_WINDOW, durationNanos, done -> channel.publish(queue,
        sameProperties ? sameProperties() : PERSISTENT_JSON, body, done));
      admin.queuePurge(queue);
      return r;
    }

    @Override
    public void close() throws Exception {
      if (connection != null) {
        admin.queueDelete(queue);
        connection.close();
      }
    }
  }

  private static final class StPublish implements Side {
    private final Vertx vertx;
    private final BenchOptions o;
    private final Buffer body = Payloads.json(100);
    private final String queue = queue("publish-st");
    private Context context;
    private Producer producer;
    private Connection connection;
    private Channel admin;

    StPublish(Vertx vertx, BenchOptions o) {
      this.vertx = vertx;
      this.o = o;
    }

    @Override
    public String label() {
      return "rabbitmq Producer.send from one event loop, " + CONFIRM_WINDOW + " sends outstanding";
    }

    @Override
    public void open() throws Exception {
      Vx.requireTransport(Transports.RABBITMQ);
      connection = connect("publish-admin");
      admin = connection.createChannel();
      context = Vx.newContext(vertx);
      producer = Vx.on(context, () -> Future.succeededFuture(
        Transports.PRODUCERS.get(Transports.RABBITMQ).create(vertx, queue, streamtoolsConfig())));
      Vx.on(context, producer::init);
    }

    @Override
    public RoundResult round(int index, long durationNanos) throws Exception {
      RoundResult r = AsyncWindow.run(context, CONFIRM_WINDOW, durationNanos, () -> producer.send(
        Message.builder().body(body).contentType(Message.APPLICATION_JSON).build()));
      admin.queuePurge(queue);
      return r;
    }

    @Override
    public void close() throws Exception {
      if (producer != null) {
        Vx.await(producer.close());
      }
      if (connection != null) {
        deleteQuietly(connection, queue, queue + ".dlq");
        connection.close();
      }
    }
  }

  /**
   * Fills its queue over a connection it keeps, and drains it each round over a connection of the round's own, as
   * the streamtools side's consumer loop, new each round, does: a consumer on a connection opened for the drain
   * landed in the broker's slow mode more often (the raw consumer on a new connection each round in 1 of 13 drains
   * fast, on a connection kept across rounds in 4 of 13, alternating; BENCHMARKS.md).
   */
  private static final class RawConsume implements Side {
    private final BenchOptions o;
    private final String queue = queue("consume-raw");
    private final Map<String, Object> queueArguments;
    private Connection connection;

    RawConsume(BenchOptions o) {
      this(o, Map.of());
    }

    RawConsume(BenchOptions o, Map<String, Object> queueArguments) {
      this.o = o;
      this.queueArguments = queueArguments;
    }

    @Override
    public String label() {
      return "amqp-client basicConsume on a connection opened for the round, basicQos(" + PREFETCH + "), "
        + "basicAck(tag, true) every " + ACK_EVERY + " deliveries";
    }

    @Override
    public void open() throws Exception {
      connection = connect("consume");
      declareDurable(connection, queue, queueArguments);
    }

    @Override
    public RoundResult round(int index, long durationNanos) throws Exception {
      fill(connection, queue, o.rmqBacklog);
      AtomicLong handled = new AtomicLong();
      AtomicLong first = new AtomicLong();
      AtomicLong last = new AtomicLong();
      CompletableFuture<Void> all = new CompletableFuture<>();
      Connection consuming = connect("consume-round");
      Channel ch = consuming.createChannel();
      try {
        ch.basicQos(PREFETCH);
        String tag = ch.basicConsume(queue, false, (consumerTag, d) -> {
          long n = handled.incrementAndGet();
          long now = System.nanoTime();
          if (n == 1) {
            first.set(now);
          }
          last.set(now);
          if (n % ACK_EVERY == 0 || n == o.rmqBacklog) {
            ch.basicAck(d.getEnvelope().getDeliveryTag(), true);
          }
          if (n == o.rmqBacklog) {
            all.complete(null);
          }
        }, consumerTag -> { });
        all.get(300, TimeUnit.SECONDS);
        ch.basicCancel(tag);
      } finally {
        consuming.close();
      }
      return new RoundResult(handled.get() - 1, last.get() - first.get(), Double.NaN, Double.NaN, 0);
    }

    @Override
    public void close() throws Exception {
      if (connection != null) {
        deleteQuietly(connection, queue);
        connection.close();
      }
    }
  }

  private static final class StConsume implements Side {
    private final Vertx vertx;
    private final BenchOptions o;
    private final String queue = queue("consume-st");
    private final Map<String, Object> queueArguments;
    private Context context;
    private Connection connection;

    StConsume(Vertx vertx, BenchOptions o) {
      this(vertx, o, Map.of());
    }

    /**
     * @param queueArguments arguments of the queue besides the dead-lettering streamtools declares it with; if
     *     any, the queue is declared here with both, and the consumer loop uses it as it finds it
     */
    StConsume(Vertx vertx, BenchOptions o, Map<String, Object> queueArguments) {
      this.vertx = vertx;
      this.o = o;
      this.queueArguments = queueArguments;
    }

    @Override
    public String label() {
      return "rabbitmq ConsumerLoop, maxInFlight " + PREFETCH + ", handler succeeds at once";
    }

    @Override
    public void open() throws Exception {
      Vx.requireTransport(Transports.RABBITMQ);
      connection = connect("consume-fill");
      context = Vx.newContext(vertx);
      if (!queueArguments.isEmpty()) {
        Map<String, Object> args = new HashMap<>(queueArguments);
        args.put("x-dead-letter-exchange", "");
        args.put("x-dead-letter-routing-key", queue + FailurePolicy.DEAD_LETTER_SUFFIX);
        declareDurable(connection, queue, args);
      }
    }

    @Override
    public RoundResult round(int index, long durationNanos) throws Exception {
      AtomicLong handled = new AtomicLong();
      AtomicLong first = new AtomicLong();
      AtomicLong last = new AtomicLong();
      CompletableFuture<Void> all = new CompletableFuture<>();
      ConsumerLoop loop = Vx.on(context, () -> Future.succeededFuture(
        Transports.CONSUMER_LOOPS.get(Transports.RABBITMQ).create(vertx, queue, streamtoolsConfig())));
      try {
        Vx.on(context, loop::init);
        fill(connection, queue, o.rmqBacklog);
        Vx.on(context, () -> loop.start(m -> {
          long n = handled.incrementAndGet();
          long now = System.nanoTime();
          if (n == 1) {
            first.set(now);
          }
          last.set(now);
          if (n == o.rmqBacklog) {
            all.complete(null);
          }
          return Future.succeededFuture();
        }, RouteOptions.defaults().maxInFlight(PREFETCH)));
        all.get(300, TimeUnit.SECONDS);
      } finally {
        Vx.await(loop.close());
      }
      return new RoundResult(handled.get() - 1, last.get() - first.get(), Double.NaN, Double.NaN,
        Math.max(0, handled.get() - o.rmqBacklog));
    }

    @Override
    public void close() throws Exception {
      if (connection != null) {
        deleteQuietly(connection, queue, queue + ".dlq");
        connection.close();
      }
    }
  }

  private static final class RawRtt implements Side {
    private final BenchOptions o;
    private final byte[] body = Payloads.json(100).getBytes();
    private final String queue = queue("rtt-raw");
    private final AtomicReference<Consumer<Throwable>> waiting = new AtomicReference<>();
    private final AtomicInteger pendingParts = new AtomicInteger();
    private Connection pubConnection;
    private Connection subConnection;
    private ConfirmingChannel channel;

    RawRtt(BenchOptions o) {
      this.o = o;
    }

    @Override
    public String label() {
      return "amqp-client publisher (confirms) + basicConsume consumer on its own connection, basicQos(64); each "
        + "message with a new id, a timestamp and the timestamp_in_ms header";
    }

    @Override
    public void open() throws Exception {
      pubConnection = connect("rtt-pub");
      subConnection = connect("rtt-sub");
      channel = new ConfirmingChannel(pubConnection);
      channel.channel.queueDeclare(queue, true, false, false, null);
      Channel sub = subConnection.createChannel();
      sub.basicQos(64);
      sub.basicConsume(queue, false, (tag, d) -> {
        sub.basicAck(d.getEnvelope().getDeliveryTag(), false);
        part(null);
      }, tag -> { });
    }

    private void part(Throwable err) {
      if (pendingParts.decrementAndGet() == 0 || err != null) {
        Consumer<Throwable> w = waiting.getAndSet(null);
        if (w != null) {
          w.accept(err);
        }
      }
    }

    @Override
    public RoundResult round(int index, long durationNanos) throws Exception {
      return ThreadWindow.run(1, durationNanos, done -> {
        pendingParts.set(2);
        waiting.set(done);
        channel.publish(queue, sameProperties(), body, this::part);
      });
    }

    @Override
    public void close() throws Exception {
      if (pubConnection != null) {
        channel.channel.queueDelete(queue);
        pubConnection.close();
      }
      if (subConnection != null) {
        subConnection.close();
      }
    }
  }

  private static final class StRtt implements Side {
    private final Vertx vertx;
    private final BenchOptions o;
    private final Buffer body = Payloads.json(100);
    private final String queue = queue("rtt-st");
    private Context context;
    private Producer producer;
    private ConsumerLoop loop;
    private volatile Promise<Void> received;

    StRtt(Vertx vertx, BenchOptions o) {
      this.vertx = vertx;
      this.o = o;
    }

    @Override
    public String label() {
      return "rabbitmq Producer.send + ConsumerLoop (maxInFlight 64 = prefetch), on one event loop";
    }

    @Override
    public void open() throws Exception {
      Vx.requireTransport(Transports.RABBITMQ);
      // one verticle's producer and consumer loop: the consumer's thread hands a delivery to the thread that sends
      // the next, as the raw consumer does, with no hand-over between event loops that only this wait would need
      context = Vx.newContext(vertx);
      loop = Vx.on(context, () -> Future.succeededFuture(
        Transports.CONSUMER_LOOPS.get(Transports.RABBITMQ).create(vertx, queue, streamtoolsConfig())));
      Vx.on(context, () -> loop.start(m -> {
        Promise<Void> r = received;
        if (r != null) {
          r.tryComplete();
        }
        return Future.succeededFuture();
      }, RouteOptions.defaults().maxInFlight(64)));
      producer = Vx.on(context, () -> Future.succeededFuture(
        Transports.PRODUCERS.get(Transports.RABBITMQ).create(vertx, queue, streamtoolsConfig())));
      Vx.on(context, producer::init);
    }

    @Override
    public RoundResult round(int index, long durationNanos) throws Exception {
      return AsyncWindow.run(context, 1, durationNanos, () -> {
        Promise<Void> r = Promise.promise();
        received = r;
        return Future.all(producer.send(Message.builder().body(body).contentType(Message.APPLICATION_JSON)
          .build()), r.future());
      });
    }

    @Override
    public void close() throws Exception {
      if (loop != null) {
        Vx.await(loop.close());
      }
      if (producer != null) {
        Vx.await(producer.close());
      }
      Connection c = connect("rtt-cleanup");
      try {
        deleteQuietly(c, queue, queue + ".dlq");
      } finally {
        c.close();
      }
    }
  }
}
