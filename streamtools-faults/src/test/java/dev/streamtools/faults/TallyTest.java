package dev.streamtools.faults;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The counting itself: a harness that miscounted would prove nothing. */
class TallyTest {

  @TempDir
  Path dir;

  private long t;

  @Test
  void lostIsConfirmedButNeverHandledAndDuplicatesCountEveryExtraHandling() {
    Events p = producer("p", List.of(c("m-0", "k0", 0), c("m-1", "k1", 0), c("m-2", "k0", 1), x("m-3", "k1", 1)));
    Events c1 = consumer("c1", List.of(h("m-0", "k0", 0), h("m-2", "k0", 1)));
    Events c2 = consumer("c2", List.of(h("m-2", "k0", 1), h("m-3", "k1", 1), h("m-2", "k0", 1)));

    Tally tally = Tally.of("q", List.of(p), Map.of("c1", c1, "c2", c2), Set.of());

    assertThat(tally.attempted).isEqualTo(4);
    assertThat(tally.confirmed).containsExactlyInAnyOrder("m-0", "m-1", "m-2");
    assertThat(tally.failed).containsOnlyKeys("m-3");
    assertThat(tally.lost).containsExactly("m-1");
    assertThat(tally.duplicates).isEqualTo(2);
    assertThat(tally.duplicateIds()).containsExactly("m-2");
    assertThat(tally.unconfirmedHandled).containsExactly("m-3");
    assertThat(tally.handledUnique()).isEqualTo(3);
  }

  @Test
  void anExpectedDeadLetterIsNotLost() {
    Events p = producer("p", List.of(c("m-0", "k0", 0), c("m-1", "k0", 1)));
    Events c1 = consumer("c1", List.of(h("m-1", "k0", 1)));

    assertThat(Tally.of("q", List.of(p), Map.of("c1", c1), Set.of("m-0")).lost).isEmpty();
    assertThat(Tally.of("q", List.of(p), Map.of("c1", c1), Set.of()).lost).containsExactly("m-0");
  }

  @Test
  void perKeyOrderAllowsRedeliveryButNotAFirstHandlingOutOfOrder() {
    Events p = producer("p", List.of(c("a-0", "k0", 0), c("a-1", "k0", 1), c("a-2", "k0", 2), c("b-0", "k1", 0),
      c("b-1", "k1", 1)));
    // k0: 0, 1, then a crash redelivers 1 and 2 is handled next: in order. k1: 1 before 0: out of order.
    Events c1 = consumer("c1", List.of(h("a-0", "k0", 0), h("a-1", "k0", 1), h("b-1", "k1", 1)));
    Events c2 = consumer("c2", List.of(h("a-1", "k0", 1), h("a-2", "k0", 2), h("b-0", "k1", 0)));

    List<String> violations = Tally.of("q", List.of(p), Map.of("c1", c1, "c2", c2), Set.of())
      .perKeyOrderViolations();

    assertThat(violations).hasSize(1);
    assertThat(violations.get(0)).contains("key k1").contains("seq 1").contains("before seq 0");
  }

  @Test
  void sendErrorsAreGroupedWithoutTheirIdsQueuesAndPorts() {
    assertThat(Tally.normalize("dev.streamtools.SendException: [http queue 'faults-s1-http-8bdo3hag'] send of message "
      + "m-3350 failed: POST http://127.0.0.1:42557/faults-s1-http-8bdo3hag: cannot connect (Connection refused: "
      + "/127.0.0.1:42557); is a consumer listening there?"))
      .isEqualTo("POST http://127.0.0.1:<port>/<queue>: cannot connect (Connection refused: /127.0.0.1:<port>); is a "
        + "consumer listening there?");
    assertThat(Tally.normalize("dev.streamtools.SendException: [rabbitmq queue 'faults-s3-rabbitmq-4fp53f5j'] send of "
      + "message m-1 failed: the connection closed before the broker confirmed it"))
      .isEqualTo("the connection closed before the broker confirmed it");
  }

  @Test
  void eventsAreReadIncrementallyAndAHalfWrittenLineWaits() throws Exception {
    Path file = dir.resolve("e.events");
    EventLog log = new EventLog(file);
    Events events = new Events(file);
    log.write("H", new JsonObject().put("id", "1"));
    assertThat(events.refresh().count("H")).isEqualTo(1);
    java.nio.file.Files.writeString(file, "{\"e\":\"H\",\"id\":\"2\"", java.nio.file.StandardOpenOption.APPEND);
    assertThat(events.refresh().count("H")).isEqualTo(1);
    java.nio.file.Files.writeString(file, ",\"t\":1}\n", java.nio.file.StandardOpenOption.APPEND);
    assertThat(events.refresh().count("H")).isEqualTo(2);
    log.close();
  }

  private JsonObject c(String id, String k, long s) {
    return new JsonObject().put("e", "C").put("q", "q").put("id", id).put("k", k).put("s", s);
  }

  private JsonObject x(String id, String k, long s) {
    return new JsonObject().put("e", "X").put("q", "q").put("id", id).put("k", k).put("s", s).put("err", "boom");
  }

  private JsonObject h(String id, String k, long s) {
    return new JsonObject().put("e", "H").put("q", "q").put("id", id).put("k", k).put("s", s);
  }

  private Events producer(String name, List<JsonObject> events) {
    return write(name, events);
  }

  private Events consumer(String name, List<JsonObject> events) {
    return write(name, events);
  }

  // each event gets the next tick, so consumers' events interleave in the order the test lists them
  private Events write(String name, List<JsonObject> events) {
    Path file = dir.resolve(name + ".events");
    try (EventLog log = new EventLog(file)) {
      for (JsonObject e : events) {
        log.write(e.getString("e"), e.copy().put("t", ++t));
      }
    }
    return new Events(file);
  }
}
