package dev.streamtools.faults;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Restarts the brokers through {@code scripts/brokers.sh} ({@code restart-kafka}, {@code restart-rabbitmq}), which
 * returns once the broker accepts clients again. Kafka is restarted by the brokers.sh that started it (it
 * restarts only its own broker): {@code STREAMTOOLS_BROKERS_SCRIPT}, else the first {@code scripts/brokers.sh} at
 * or above the working directory, or in the primary checkout of a git worktree, whose
 * {@code target/brokers/kafka/kafka.pid} exists.
 */
final class BrokerControl {

  private BrokerControl() {
  }

  /**
   * @param transport kafka or rabbitmq
   * @param log where the script's output goes
   * @return how long the restart took, in milliseconds
   */
  static long restart(String transport, Path log) {
    Path script = transport.equals("kafka") ? kafkaScript() : anyScript();
    String command = transport.equals("kafka") ? "restart-kafka" : "restart-rabbitmq";
    long start = System.nanoTime();
    try {
      Process p = new ProcessBuilder("bash", script.toString(), command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
      if (!p.waitFor(300, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError(script + " " + command + " did not finish in 300 s; see " + log);
      }
      if (p.exitValue() != 0) {
        throw new AssertionError(script + " " + command + " failed with status " + p.exitValue() + ":\n"
          + Files.readString(log, StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new AssertionError("cannot run " + script + " " + command + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted restarting " + transport, e);
    }
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
  }

  /** @return the checkout's root: {@code faults.root}, else the first directory upwards holding scripts/brokers.sh */
  static Path repoRoot() {
    String root = System.getProperty("faults.root");
    if (root != null && !root.isBlank()) {
      return Path.of(root).toAbsolutePath();
    }
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("scripts/brokers.sh"))) {
        return dir;
      }
    }
    throw new AssertionError("no scripts/brokers.sh at or above " + Path.of("").toAbsolutePath()
      + "; set -Dfaults.root=<checkout>");
  }

  private static Path anyScript() {
    return repoRoot().resolve("scripts/brokers.sh");
  }

  private static Path kafkaScript() {
    String named = System.getenv("STREAMTOOLS_BROKERS_SCRIPT");
    if (named != null && !named.isBlank()) {
      return Path.of(named);
    }
    List<Path> candidates = new ArrayList<>();
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      candidates.add(dir.resolve("scripts/brokers.sh"));
    }
    try {
      Process git = new ProcessBuilder("git", "rev-parse", "--path-format=absolute", "--git-common-dir")
        .redirectErrorStream(true).start();
      String commonDir = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (git.waitFor(10, TimeUnit.SECONDS) && git.exitValue() == 0 && !commonDir.isEmpty()) {
        candidates.add(Path.of(commonDir).getParent().resolve("scripts/brokers.sh"));
      }
    } catch (IOException e) {
      // not a git checkout: the directories above are all there is
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Path candidate : candidates) {
      Path root = candidate.getParent().getParent();
      if (Files.isRegularFile(candidate) && Files.isRegularFile(root.resolve("target/brokers/kafka/kafka.pid"))) {
        return candidate;
      }
    }
    throw new AssertionError("no scripts/brokers.sh that started the running Kafka broker among " + candidates
      + "; start it with scripts/brokers.sh up, or set STREAMTOOLS_BROKERS_SCRIPT");
  }
}
