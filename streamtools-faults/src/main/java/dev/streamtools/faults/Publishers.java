package dev.streamtools.faults;

import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.SendOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code publishers} concurrent senders of {@code count} numbered messages through one {@link Producer}. Message
 * {@code n} has id {@code <prefix>-<n>}, key {@code k<n % keys>} and per-key sequence {@code n / keys}; its body is
 * {@code {"n":n,"k":key,"s":kseq,"pad":"..."}}. Publisher {@code p} sends {@code n = p, p + publishers, ...} one at
 * a time, each after the previous one's outcome: with {@code keys} a multiple of {@code publishers}, all messages of
 * a key come from one publisher in sequence order, so a transport that keeps per-key order delivers them in that
 * order.
 *
 * <p>Every outcome is recorded before the next send: {@code C} (confirmed: the send's Future succeeded) or
 * {@code X} (failed, with the error). With a rate, message {@code n} is not sent before {@code start + n / rate}.
 */
public final class Publishers {

  private final Vertx vertx;
  private final Producer producer;
  private final EventLog events;
  private final String prefix;
  private final long count;
  private final int publishers;
  private final int keys;
  private final double rate;
  private final String pad;
  private final long pauseAfterFailureMillis;
  private final AtomicLong confirmed = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicBoolean stopped = new AtomicBoolean();
  private long startNanos;

  /**
   * @param vertx where timers run
   * @param producer the producer, initialised or not
   * @param events where outcomes are recorded
   * @param prefix message id prefix
   * @param count how many messages
   * @param publishers how many concurrent senders
   * @param keys how many distinct keys
   * @param rate messages per second in all, 0 for as fast as the transport takes them
   * @param padBytes body padding
   * @param pauseAfterFailureMillis how long a publisher waits after a failed send (an HTTP 503 answers at once)
   */
  public Publishers(Vertx vertx, Producer producer, EventLog events, String prefix, long count, int publishers,
                    int keys, double rate, int padBytes, long pauseAfterFailureMillis) {
    if (publishers < 1 || keys < 1) {
      throw new IllegalArgumentException("publishers and keys must be positive: " + publishers + ", " + keys);
    }
    this.vertx = vertx;
    this.producer = producer;
    this.events = events;
    this.prefix = prefix;
    this.count = count;
    this.publishers = publishers;
    this.keys = keys;
    this.rate = rate;
    this.pad = "x".repeat(Math.max(0, padBytes));
    this.pauseAfterFailureMillis = pauseAfterFailureMillis;
  }

  /** @return a Future completed when every publisher is done (or stopped) */
  public Future<Void> run() {
    startNanos = System.nanoTime();
    Promise<Void> all = Promise.promise();
    int senders = (int) Math.min(publishers, Math.max(1, count));
    AtomicInteger running = new AtomicInteger(senders);
    if (count <= 0) {
      all.complete();
      return all.future();
    }
    for (int p = 0; p < senders; p++) {
      long first = p;
      vertx.runOnContext(v -> next(first, () -> {
        if (running.decrementAndGet() == 0) {
          all.complete();
        }
      }));
    }
    return all.future();
  }

  /** Stops issuing sends; those in progress still complete. */
  public void stop() {
    stopped.set(true);
  }

  /** @return sends confirmed so far */
  public long confirmed() {
    return confirmed.get();
  }

  /** @return sends failed so far */
  public long failed() {
    return failed.get();
  }

  private void next(long n, Runnable done) {
    if (n >= count || stopped.get()) {
      done.run();
      return;
    }
    long delayMillis = 0;
    if (rate > 0) {
      long dueNanos = startNanos + (long) (n * 1e9 / rate);
      delayMillis = (dueNanos - System.nanoTime()) / 1_000_000;
    }
    if (delayMillis >= 1) {
      vertx.setTimer(delayMillis, id -> send(n, done));
    } else {
      send(n, done);
    }
  }

  private void send(long n, Runnable done) {
    if (stopped.get()) {
      done.run();
      return;
    }
    String key = "k" + (n % keys);
    long kseq = n / keys;
    String id = prefix + "-" + n;
    Message m = Message.json(new JsonObject().put("n", n).put("k", key).put("s", kseq).put("pad", pad))
      .withId(id).withKey(key);
    Future<?> sent;
    try {
      sent = producer.sendForResult(m, SendOptions.DEFAULTS.key(key));
    } catch (RuntimeException e) {
      sent = Future.failedFuture(e);
    }
    sent.onComplete(ar -> {
      JsonObject e = new JsonObject().put("q", producer.queue()).put("id", id).put("k", key).put("s", kseq).put("n", n);
      long wait = 0;
      if (ar.succeeded()) {
        events.write("C", e);
        confirmed.incrementAndGet();
      } else {
        events.write("X", e.put("err", String.valueOf(ar.cause())));
        failed.incrementAndGet();
        wait = pauseAfterFailureMillis;
      }
      if (wait > 0) {
        vertx.setTimer(wait, t -> next(n + publishers, done));
      } else {
        next(n + publishers, done);
      }
    });
  }
}
