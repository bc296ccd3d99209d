package dev.streamtools.runner;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * The shaded jar as a user runs it: {@code java -jar streamtools-runner/target/streamtools-runner.jar}, a
 * separate process, read through its output. Runs in the integration-test phase, after {@code package}
 * has built the jar.
 */
@Timeout(120)
class RunnableJarIT {

  private static final Duration STEP = Duration.ofSeconds(45);
  private static final Pattern PORT = Pattern.compile("port (\\d+) \\(host");

  private static Path jar;

  @BeforeAll
  static void findJar() {
    jar = Path.of(System.getProperty("streamtools.runner.jar", "target/streamtools-runner.jar"));
    assertThat(Files.isRegularFile(jar)).as("the shaded jar %s (built by mvn package)", jar).isTrue();
  }

  /** The example runs unchanged on http (the default, no broker) and on memory, chosen by QUEUE_TYPE. */
  @ParameterizedTest(name = "QUEUE_TYPE={0}")
  @CsvSource({"'', http", "memory, memory"})
  void runsTheExampleUntilSigtermThenExitsZero(String queueTypeEnv, String expected) throws Exception {
    Map<String, String> env = new HashMap<>();
    if (!queueTypeEnv.isEmpty()) {
      env.put("QUEUE_TYPE", queueTypeEnv);
    }
    try (JavaProcess p = jar(env, "--port", "0", "--interval", "100")) {
      String started = p.awaitLine("the startup line", l -> l.contains("streamtools runner started"), STEP);
      assertThat(started).contains("transport " + expected).contains("queues [queue_1, orders]");
      p.awaitLine("a second order handled", l -> l.contains("handled order o-2 x3"), STEP);
      p.awaitLine("a queue_1 message handled", l -> l.contains("handled queue_1 message"), STEP);
      assertThat(p.output()).contains("produced order o-1 x2 via " + expected);

      Matcher m = PORT.matcher(started);
      assertThat(m.find()).isTrue();
      HttpResponse<String> ready = HttpClient.newHttpClient().send(HttpRequest
          .newBuilder(URI.create("http://127.0.0.1:" + m.group(1) + "/health/ready")).timeout(Duration.ofSeconds(5))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);

      int status = p.terminate(STEP);
      assertThat(status).as(p.output()).isZero();
      assertThat(p.output()).contains("received SIGTERM: stopping gracefully", "streamtools runner stopped cleanly",
        "demo producer: ");
      assertThat(p.output()).doesNotContain("ERROR", "Exception");
    }
  }

  /** Any other way the JVM exits (here SIGHUP, which the runner leaves to the JVM) still drains first. */
  @Test
  void theShutdownHookStopsGracefullyWhenTheJvmExitsForAnotherReason() throws Exception {
    // a JVM started with SIGHUP ignored (under nohup) keeps ignoring it, and so does the jar it starts
    assumeFalse(sighupIgnored(), "SIGHUP is ignored in this process (started under nohup?): the jar would ignore it");
    try (JavaProcess p = jar(Map.of(), "--port", "0", "--interval", "100")) {
      p.awaitLine("an order handled", l -> l.contains("handled order o-1"), STEP);
      Process hup = new ProcessBuilder("kill", "-HUP", Long.toString(p.pid())).inheritIO().start();
      assertThat(hup.waitFor()).isZero();
      int status = p.waitFor(STEP);
      assertThat(status).as(p.output()).isEqualTo(128 + 1);
      assertThat(p.output()).contains("JVM is shutting down: stopping consumers gracefully",
        "streamtools runner stopped cleanly");
    }
  }

  @Test
  void aBoundedDemoStopsByItselfOnceEverythingIsHandled() throws Exception {
    try (JavaProcess p = jar(Map.of(), "--port", "0", "--produce", "3", "--interval", "50")) {
      int status = p.waitFor(STEP);
      assertThat(status).as(p.output()).isZero();
      assertThat(p.count(l -> l.contains("handled order o-"))).isEqualTo(3);
      assertThat(p.count(l -> l.contains("handled queue_1 message"))).isEqualTo(3);
      assertThat(p.output()).contains("demo done: 6 produced, 6 handled; stopping", "streamtools runner stopped cleanly");
    }
  }

  @Test
  void anUnknownQueueTypeExitsOneNamingTheKnownOnes() throws Exception {
    try (JavaProcess p = jar(Map.of(), "--port", "0", "--queue-type", "nope")) {
      assertThat(p.waitFor(STEP)).as(p.output()).isEqualTo(1);
      assertThat(p.output()).contains("unknown transport 'nope'", "known transports: ", "http", "memory")
        .doesNotContain("\tat dev.streamtools");
    }
  }

  @Test
  void helpExitsZero() throws Exception {
    try (JavaProcess p = jar(Map.of(), "--help")) {
      assertThat(p.waitFor(STEP)).as(p.output()).isZero();
      assertThat(p.output()).contains("--produce=N", "--queue-type=TYPE", "QUEUE_TYPE");
    }
  }

  /** @return whether this process ignores SIGHUP, which the processes it starts inherit (Linux) */
  private static boolean sighupIgnored() throws Exception {
    Path status = Path.of("/proc/self/status");
    if (!Files.exists(status)) {
      return false;
    }
    for (String line : Files.readAllLines(status)) {
      if (line.startsWith("SigIgn:")) {
        return (Long.parseUnsignedLong(line.substring("SigIgn:".length()).trim(), 16) & 1L) != 0; // bit 0: SIGHUP
      }
    }
    return false;
  }

  private static JavaProcess jar(Map<String, String> env, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("-jar", jar.toString()));
    command.addAll(List.of(args));
    return JavaProcess.start(command, env);
  }
}
