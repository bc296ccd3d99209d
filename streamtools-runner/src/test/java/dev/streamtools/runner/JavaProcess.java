package dev.streamtools.runner;

import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A JVM started as a separate process, its stdout and stderr merged and collected line by line. */
final class JavaProcess implements AutoCloseable {

  private final Process process;
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final Thread reader;

  private JavaProcess(Process process) {
    this.process = process;
    this.reader = new Thread(this::read, "output-of-" + process.pid());
    this.reader.setDaemon(true);
    this.reader.start();
  }

  /**
   * @param javaArgs what follows {@code java}: {@code -jar x.jar ...} or {@code -cp ... Main ...}
   * @param env variables to set; a {@code null} value removes the variable
   */
  static JavaProcess start(List<String> javaArgs, Map<String, String> env) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.addAll(javaArgs);
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    // a developer's shell may set these; the tests say what they want
    builder.environment().remove("QUEUE_TYPE");
    builder.environment().remove("HTTP_PORT");
    builder.environment().remove("HTTP_HOST");
    env.forEach((k, v) -> {
      if (v == null) {
        builder.environment().remove(k);
      } else {
        builder.environment().put(k, v);
      }
    });
    return new JavaProcess(builder.start());
  }

  /** @return the test JVM's own class path, test classes included */
  static String testClassPath() {
    String surefire = System.getProperty("surefire.test.class.path");
    return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
  }

  private void read() {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        lines.add(line);
      }
    } catch (IOException e) {
      lines.add("<<output read failed: " + e + ">>");
    }
  }

  /** Waits for a line matching {@code match}; fails with the whole output otherwise. */
  String awaitLine(String what, Predicate<String> match, Duration atMost) {
    try {
      Awaitility.await(what).atMost(atMost).pollInterval(Duration.ofMillis(50))
        .until(() -> lines.stream().anyMatch(match) || !process.isAlive());
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("no line within " + atMost + ": " + what + "; output:\n" + output(), e);
    }
    if (!process.isAlive()) {
      joinReader(); // the last lines may still be in the pipe
    }
    return lines.stream().filter(match).findFirst()
      .orElseThrow(() -> new AssertionError("process ended (status " + process.exitValue() + ") before " + what
        + "; output:\n" + output()));
  }

  long pid() {
    return process.pid();
  }

  /** @return how many lines match so far */
  long count(Predicate<String> match) {
    return lines.stream().filter(match).count();
  }

  /**
   * Sends SIGTERM and waits for the exit status. Through the {@link ProcessHandle}: {@link Process#destroy()}
   * sends the same signal but also closes our end of the output pipe, losing the shutdown log.
   */
  int terminate(Duration atMost) throws InterruptedException {
    process.toHandle().destroy();
    return waitFor(atMost);
  }

  /** Waits for the process to exit by itself. */
  int waitFor(Duration atMost) throws InterruptedException {
    if (!process.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("process did not exit within " + atMost + "; output:\n" + output());
    }
    joinReader();
    return process.exitValue();
  }

  private void joinReader() {
    try {
      reader.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  String output() {
    return String.join("\n", lines);
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS); // so that its ports are free for the next test
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
