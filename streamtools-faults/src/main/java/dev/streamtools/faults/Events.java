package dev.streamtools.faults;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Reads an {@link EventLog} file written by another process, incrementally: {@link #refresh()} picks up the
 * complete lines appended since the last call (a line being written is left for the next one). Thread safe.
 */
final class Events {

  private final Path path;
  private final List<JsonObject> events = new ArrayList<>();
  private final Map<String, Long> counts = new HashMap<>();
  private long offset;
  private byte[] partial = new byte[0];

  Events(Path path) {
    this.path = path;
  }

  Path path() {
    return path;
  }

  /** @return this, with the lines appended so far */
  synchronized Events refresh() {
    if (!Files.exists(path)) {
      return this;
    }
    try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "r")) {
      long length = f.length();
      if (length <= offset) {
        return this;
      }
      byte[] chunk = new byte[(int) (length - offset)];
      f.seek(offset);
      f.readFully(chunk);
      offset = length;
      byte[] data = new byte[partial.length + chunk.length];
      System.arraycopy(partial, 0, data, 0, partial.length);
      System.arraycopy(chunk, 0, data, partial.length, chunk.length);
      int start = 0;
      for (int i = 0; i < data.length; i++) {
        if (data[i] == '\n') {
          String line = new String(data, start, i - start, StandardCharsets.UTF_8);
          start = i + 1;
          if (!line.isBlank()) {
            JsonObject e = new JsonObject(line);
            events.add(e);
            counts.merge(e.getString("e"), 1L, Long::sum);
          }
        }
      }
      partial = new byte[data.length - start];
      System.arraycopy(data, start, partial, 0, partial.length);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path, e);
    }
    return this;
  }

  /** @return how many events of {@code type} were read so far (call {@link #refresh()} first) */
  synchronized long count(String type) {
    return counts.getOrDefault(type, 0L);
  }

  /** @return the events read so far */
  synchronized List<JsonObject> all() {
    return new ArrayList<>(events);
  }

  /** @return the events of {@code type} read so far */
  synchronized List<JsonObject> of(String type) {
    return events.stream().filter(e -> type.equals(e.getString("e"))).toList();
  }

  /** @return the events matching */
  synchronized List<JsonObject> where(Predicate<JsonObject> match) {
    return events.stream().filter(match).toList();
  }
}
