package dev.streamtools.kafka;

import dev.streamtools.ConsumerLoop;
import dev.streamtools.RouteOptions;
import dev.streamtools.Transports;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A consumer in its own JVM, so a test can kill it with SIGKILL mid-stream: no close, no commit, no
 * LeaveGroup. Prints {@code READY} once consuming, then {@code H <message id>} for every message its handler
 * finished, flushed before the handler's Future completes (so before the record can be committed).
 *
 * <p>Arguments: topic, group, bootstrap servers, maxInFlight, max in flight per partition.
 */
public final class ChildConsumer {

  private ChildConsumer() {
  }

  public static void main(String[] args) {
    String topic = args[0];
    JsonObject config = new JsonObject()
      .put(KafkaTransport.BOOTSTRAP_SERVERS, args[2])
      .put(KafkaTransport.GROUP_ID, args[1])
      .put(KafkaTransport.MAX_IN_FLIGHT_PER_PARTITION, Integer.parseInt(args[4]))
      // the broker's minimum: the survivor takes over about 6 s after the kill
      .put("kafka.consumer.session.timeout.ms", 6000)
      .put("kafka.consumer.heartbeat.interval.ms", 500);
    PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
    Vertx vertx = Vertx.vertx();
    ConsumerLoop loop = Transports.CONSUMER_LOOPS.get(Transports.KAFKA).create(vertx, topic, config);
    loop.start(m -> {
      Promise<Void> done = Promise.promise();
      // 1-4 ms, in random order: records of one partition finish out of order, so commits must wait for gaps
      vertx.setTimer(1 + ThreadLocalRandom.current().nextInt(4), id -> {
        synchronized (out) {
          out.println("H " + m.id());
          out.flush();
        }
        done.complete();
      });
      return done.future();
    }, RouteOptions.defaults().maxInFlight(Integer.parseInt(args[3])))
      .onSuccess(v -> {
        synchronized (out) {
          out.println("READY");
          out.flush();
        }
      })
      .onFailure(e -> {
        e.printStackTrace();
        System.exit(2);
      });
  }
}
