package dev.streamtools.faults;

import dev.streamtools.testkit.Brokers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Every scenario of issue 6 on every transport, at the size {@code faults.size} names (reduced in
 * {@code mvn verify}; {@code scripts/faults.sh} runs the full size through {@link FaultSuite}): consumers and
 * producers are separate OS processes on the real brokers, faults are real signals and real broker restarts.
 * Each row must show 0 lost and duplicates within its bound; the table is written to
 * {@code target/faults/report-<size>.md}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FaultScenariosTest {

  private static final Duration EACH = Duration.ofMinutes(12);

  private final Size size = Size.fromEnvironment();
  private final Path dir = Path.of(System.getProperty("faults.dir", "target/faults")).toAbsolutePath();
  private final List<ScenarioResult> rows = new ArrayList<>();
  private long start;

  @BeforeAll
  void brokersAnswer() {
    // a broker that cannot be reached fails the run with the command that starts it, never skips it
    Brokers.requireKafka();
    Brokers.requireRabbitMq();
    start = System.nanoTime();
  }

  @TestFactory
  Stream<DynamicTest> scenarios() {
    Scenarios scenarios = new Scenarios(size, dir);
    List<DynamicTest> tests = new ArrayList<>();
    for (int n = 1; n <= Scenarios.NAMES.size(); n++) {
      int scenario = n;
      for (String transport : Scenarios.TRANSPORTS) {
        tests.add(DynamicTest.dynamicTest(Scenarios.NAMES.get(n - 1) + " on " + transport, () -> {
          ScenarioResult r = assertTimeoutPreemptively(EACH, () -> scenarios.run(scenario, transport));
          rows.add(r);
          System.out.println(r);
          assertThat(r.failures()).as("%s on %s:%n%s", r.scenario(), r.transport(), r).isEmpty();
          if (r.notApplicable() == null) {
            assertThat(r.lost()).as("lost").isZero();
          }
        }));
      }
    }
    return tests.stream();
  }

  @AfterAll
  void writeTable() {
    long seconds = (System.nanoTime() - start) / 1_000_000_000L;
    String md = FaultSuite.markdown(size, rows, List.of(), seconds);
    Scenarios.write(dir.resolve("report-" + size.name() + ".md"), md);
    System.out.println(md);
  }
}
