package dev.streamtools.faults;

import io.vertx.core.json.JsonObject;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/**
 * An append-only file of events, one JSON object per line. Each event is one {@code write(2)} on an unbuffered
 * stream, done before the caller goes on (for a handler: before its Future completes, so before the message can
 * be acknowledged). What is written is in the kernel's page cache: a {@code kill -9} of the process loses
 * nothing already written (a power loss could, and the harness does not inject one). Thread safe.
 */
public final class EventLog implements AutoCloseable {

  private final Path path;
  private final FileOutputStream out;

  /**
   * @param path the file, created (with its directory) if missing, appended to otherwise
   */
  public EventLog(Path path) {
    this.path = path;
    try {
      if (path.getParent() != null) {
        Files.createDirectories(path.getParent());
      }
      this.out = new FileOutputStream(path.toFile(), true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open event file " + path, e);
    }
  }

  /** @return microseconds since the epoch: comparable across the processes of one machine */
  public static long nowMicros() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
  }

  /**
   * Appends {@code event} with {@code "e": type} and {@code "t": now}.
   *
   * @param type the event type
   * @param event its fields; modified
   */
  public void write(String type, JsonObject event) {
    event.put("e", type);
    if (!event.containsKey("t")) {
      event.put("t", nowMicros());
    }
    byte[] line = (event.encode() + "\n").getBytes(StandardCharsets.UTF_8);
    synchronized (this) {
      try {
        out.write(line);
      } catch (IOException e) {
        // an event that cannot be recorded would make the counts lie: stop the process loudly
        throw new UncheckedIOException("cannot append to event file " + path, e);
      }
    }
  }

  /** @return the file */
  public Path path() {
    return path;
  }

  @Override
  public synchronized void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
