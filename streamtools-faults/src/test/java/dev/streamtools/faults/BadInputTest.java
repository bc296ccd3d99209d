package dev.streamtools.faults;

import dev.streamtools.testkit.Brokers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bad-input battery on HTTP (raw requests to a runner process) and through each broker (a plain client
 * publishing bad bytes): every input gets a clear error or a dead letter with its reason, and the runner stays
 * up and handles the good message sent after each bad one.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class BadInputTest {

  private final BadInput battery = new BadInput(Size.fromEnvironment(),
    Path.of(System.getProperty("faults.dir", "target/faults")).toAbsolutePath());

  @Test
  void http() {
    check(battery.run("http"), 20);
  }

  @Test
  void kafka() {
    Brokers.requireKafka();
    check(battery.run("kafka"), 15);
  }

  @Test
  void rabbitmq() {
    Brokers.requireRabbitMq();
    check(battery.run("rabbitmq"), 15);
  }

  private static void check(List<BadInput.Result> results, int atLeast) {
    results.forEach(System.out::println);
    assertThat(results).as("inputs tried").hasSizeGreaterThanOrEqualTo(atLeast);
    assertThat(results.stream().filter(r -> !r.passed()).map(BadInput.Result::row).toList())
      .as("inputs without a clear outcome, or after which the runner was down or stuck").isEmpty();
  }
}
