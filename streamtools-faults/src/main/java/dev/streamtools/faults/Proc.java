package dev.streamtools.faults;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A JVM of the harness (a consumer or a producer) started as a separate OS process, its output in a log file.
 * Signals go through {@link ProcessHandle}: {@link #terminate()} is SIGTERM, {@link #kill()} is SIGKILL.
 */
final class Proc implements AutoCloseable {

  /** Where the harness's classes and their dependencies are: {@code faults.classpath}, else this JVM's. */
  static String classPath() {
    String cp = System.getProperty("faults.classpath");
    if (cp == null || cp.isBlank()) {
      cp = System.getProperty("surefire.test.class.path");
    }
    if (cp == null || cp.isBlank()) {
      cp = System.getProperty("java.class.path");
    }
    return cp;
  }

  /** JVM flags of the harness's processes: small, and cheap on a 2-core machine. */
  static List<String> jvmOptions() {
    String opts = System.getProperty("faults.jvmOpts", "-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1");
    return new ArrayList<>(Arrays.asList(opts.trim().split("\\s+")));
  }

  private final String name;
  private final Process process;
  private final Path log;

  private Proc(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  static Proc start(String name, Path dir, Class<?> main, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions());
    command.add("-cp");
    command.add(classPath());
    command.add(main.getName());
    command.addAll(args);
    Path log = dir.resolve(name + ".log");
    try {
      Files.createDirectories(dir);
      Files.writeString(log, "# " + String.join(" ", command.subList(0, command.size() - args.size() - 3))
        + " -cp <classpath> " + main.getName() + " " + String.join(" ", args) + "\n", StandardCharsets.UTF_8);
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      // the driver says what each process uses; a developer's shell must not change it
      pb.environment().remove("QUEUE_TYPE");
      pb.environment().remove("HTTP_PORT");
      pb.environment().remove("HTTP_HOST");
      return new Proc(name, pb.start(), log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name, e);
    }
  }

  String name() {
    return name;
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** SIGTERM: a graceful stop. */
  void terminate() {
    process.toHandle().destroy();
  }

  /** SIGKILL: no shutdown hook, no close, no commit. */
  void kill() {
    process.toHandle().destroyForcibly();
  }

  /**
   * @return the exit status
   * @throws AssertionError if the process is still running after {@code atMost}
   */
  int awaitExit(Duration atMost) {
    try {
      if (!process.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError(name + " (pid " + pid() + ") did not exit within " + atMost + "; log " + log
          + ":\n" + tail(40));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted waiting for " + name, e);
    }
    return process.exitValue();
  }

  Path log() {
    return log;
  }

  /** @return the whole log */
  String output() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "<cannot read " + log + ": " + e + ">";
    }
  }

  /** @return the last lines of the log */
  String tail(int lines) {
    List<String> all = output().lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(15, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
