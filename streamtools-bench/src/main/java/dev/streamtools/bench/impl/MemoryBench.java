package dev.streamtools.bench.impl;

import dev.streamtools.ConsumerLoop;
import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.RouteOptions;
import dev.streamtools.Transports;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;

import java.util.List;
import java.util.UUID;

/**
 * The memory transport against a raw event-bus request/consumer loop. Both consumers answer the request when they
 * take the message (the memory transport's contract: a send completes when a consumer took it) and then hand it
 * to a handler that does nothing; both senders keep the same number of requests outstanding from another event
 * loop.
 */
public final class MemoryBench {

  private static final int SIZE = 100;

  /**
   * Measured rounds per side of the throughput comparisons, whatever {@code --rounds} says: the JVM runs both
   * sides at about 600 k or about 200 k requests/s and moves between the two within a run, for both sides at
   * once, so a pair whose rounds straddle a move gave 0.36-0.51 (its inverse the other way) and five pairs left the
   * median to chance.
   */
  static final int THROUGHPUT_ROUNDS = 11;

  private MemoryBench() {
  }

  /**
   * @param vertx the run's Vert.x
   * @param o options
   * @return the memory comparisons
   */
  public static List<Comparison> comparisons(Vertx vertx, BenchOptions o) {
    return List.of(
      new Comparison("memory.throughput", SIZE + " B JSON, 256 sends outstanding, handler does nothing; at least "
        + THROUGHPUT_ROUNDS + " measured rounds per side, as the JVM moves both sides between two rates about 3 "
        + "times apart", Goal.throughput(0.80), new Raw(vertx, o, 256), new Streamtools(vertx, o, 256), true,
        THROUGHPUT_ROUNDS).inSlices(),
      new Comparison("memory.throughput.raw-vs-raw", "the load above and as many rounds; both sides are the raw "
        + "event-bus loop, each with its own address (the streamtools column is the second raw loop): the spread of "
        + "a ratio that is 1 by construction", Goal.none(), new Raw(vertx, o, 256), new Raw(vertx, o, 256), true,
        THROUGHPUT_ROUNDS).inSlices(),
      new Comparison("memory.rtt", SIZE + " B JSON, one send outstanding (round trip)",
        Goal.throughput(0.90), new Raw(vertx, o, 1), new Streamtools(vertx, o, 1), true).inSlices());
  }

  private abstract static class Base implements Side {
    final Vertx vertx;
    final BenchOptions o;
    final int window;
    final Buffer body = Payloads.json(SIZE);
    final String queue = "bench-" + UUID.randomUUID();
    Context consumerContext;
    Context senderContext;
    long handled;

    Base(Vertx vertx, BenchOptions o, int window) {
      this.vertx = vertx;
      this.o = o;
      this.window = window;
    }

    @Override
    public void open() throws Exception {
      consumerContext = Vx.newContext(vertx);
      senderContext = Vx.newContext(vertx);
    }
  }

  private static final class Raw extends Base {
    private MessageConsumer<Buffer> consumer;

    Raw(Vertx vertx, BenchOptions o, int window) {
      super(vertx, o, window);
    }

    @Override
    public String label() {
      return "EventBus.request + EventBus.consumer replying on receipt";
    }

    @Override
    public void open() throws Exception {
      super.open();
      Vx.on(consumerContext, () -> {
        consumer = vertx.eventBus().consumer(queue, m -> {
          m.reply(null);
          handled++;
        });
        return consumer.completion();
      });
    }

    @Override
    public RoundResult round(int index, long durationNanos) throws Exception {
      return AsyncWindow.run(senderContext, window, durationNanos, () -> vertx.eventBus().request(queue, body));
    }

    @Override
    public void close() throws Exception {
      if (consumer != null) {
        Vx.on(consumerContext, consumer::unregister);
      }
    }
  }

  private static final class Streamtools extends Base {
    private Producer producer;
    private ConsumerLoop loop;

    Streamtools(Vertx vertx, BenchOptions o, int window) {
      super(vertx, o, window);
    }

    @Override
    public String label() {
      return "memory Producer.send + ConsumerLoop (RouteOptions defaults)";
    }

    @Override
    public void open() throws Exception {
      super.open();
      producer = Transports.PRODUCERS.get(Transports.MEMORY).create(vertx, queue);
      loop = Transports.CONSUMER_LOOPS.get(Transports.MEMORY).create(vertx, queue);
      Vx.on(consumerContext, () -> loop.start(m -> {
        handled++;
        return Future.succeededFuture();
      }, RouteOptions.defaults()));
      Vx.on(senderContext, producer::init);
    }

    @Override
    public RoundResult round(int index, long durationNanos) throws Exception {
      return AsyncWindow.run(senderContext, window, durationNanos, () -> producer.send(
        Message.builder().body(body).contentType(Message.APPLICATION_JSON).build()));
    }

    @Override
    public void close() throws Exception {
      if (producer != null) {
        Vx.await(producer.close());
      }
      if (loop != null) {
        Vx.await(loop.close());
      }
    }
  }
}
