package dev.streamtools;

import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Producer/consumer pairs from a queues config of the Python seed's shape:
 *
 * <pre>{@code
 * { "queue_1": { "name": "queue_1", "consumer_loop": "kafka", "producer": "http" },
 *   "queue_2": { "name": "queue_2", "consumer_loop": "RMQIOHandler", "producer": "rabbitmq",
 *                "config": { "RMQ_HOST": "10.0.0.5" } } }
 * }</pre>
 *
 * <p>Each entry takes {@code consumer_loop} and {@code producer} (transport names or the seed's
 * aliases {@code KafkaHandler}, {@code HTTPHandler}, {@code RMQIOHandler}), {@code name} (default: the
 * entry's key) and {@code config} (settings by environment name). The whole config is checked when the
 * factory is built: an error names the queue and key that are wrong.
 */
public final class HandlerFactory {

  /** Keys an entry may have. */
  public static final Set<String> ENTRY_KEYS = Set.of("name", "consumer_loop", "producer", "config");

  private final Map<String, Entry> entries;

  /**
   * @param queues the queues config
   * @throws ConfigException naming the queue and key that are wrong
   */
  public HandlerFactory(JsonObject queues) {
    this.entries = parse(queues);
  }

  /**
   * @param file a JSON file holding the queues config
   * @return the factory
   * @throws ConfigException if the file cannot be read or parsed, or an entry is wrong
   */
  public static HandlerFactory fromFile(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException("queues config " + file + " cannot be read: " + e.getMessage(), e);
    }
    try {
      return new HandlerFactory(new JsonObject(text));
    } catch (DecodeException e) {
      throw new ConfigException("queues config " + file + " is not a JSON object: " + e.getMessage(), e);
    } catch (ConfigException e) {
      throw new ConfigException(file + ": " + e.getMessage(), e);
    }
  }

  /** @return the entries' keys, in file order */
  public Set<String> queues() {
    return entries.keySet();
  }

  /**
   * @param vertx the Vert.x instance both sides run on
   * @param key an entry's key
   * @return the producer/consumer pair; not yet initialised
   * @throws ConfigException if there is no such entry
   */
  public HandleMsgs create(Vertx vertx, String key) {
    Entry e = entries.get(key);
    if (e == null) {
      throw new ConfigException("queues config has no queue '" + key + "'; it has " + entries.keySet());
    }
    Producer producer = Transports.PRODUCERS.get(e.producer).create(vertx, e.name, e.config.copy());
    ConsumerLoop loop = Transports.CONSUMER_LOOPS.get(e.consumerLoop).create(vertx, e.name, e.config.copy());
    return new HandleMsgs(key, e.name, producer, loop);
  }

  /**
   * @param vertx the Vert.x instance
   * @return a pair per entry, by key, in file order
   */
  public Map<String, HandleMsgs> createAll(Vertx vertx) {
    Map<String, HandleMsgs> all = new LinkedHashMap<>();
    entries.keySet().forEach(k -> all.put(k, create(vertx, k)));
    return Collections.unmodifiableMap(all);
  }

  private record Entry(String name, String consumerLoop, String producer, JsonObject config) {
  }

  private static Map<String, Entry> parse(JsonObject queues) {
    if (queues == null || queues.isEmpty()) {
      throw new ConfigException("queues config is empty: it needs at least one queue");
    }
    Map<String, Entry> entries = new LinkedHashMap<>();
    for (Map.Entry<String, Object> q : queues) {
      String key = q.getKey();
      if (!(q.getValue() instanceof JsonObject)) {
        throw new ConfigException("queues config: queue '" + key + "' must be an object with "
          + "consumer_loop and producer, was " + q.getValue());
      }
      JsonObject entry = (JsonObject) q.getValue();
      for (String k : entry.fieldNames()) {
        if (!ENTRY_KEYS.contains(k)) {
          throw new ConfigException("queues config: queue '" + key + "' has unknown key '" + k
            + "'; allowed keys: consumer_loop, producer, name, config");
        }
      }
      String name = text(entry, key, "name", false);
      Object config = entry.getValue("config");
      if (config != null && !(config instanceof JsonObject)) {
        throw new ConfigException("queues config: queue '" + key + "', key 'config' must be an object");
      }
      entries.put(key, new Entry(name == null ? key : name, transport(entry, key, "consumer_loop"),
        transport(entry, key, "producer"), config == null ? new JsonObject() : (JsonObject) config));
    }
    return Collections.unmodifiableMap(entries);
  }

  private static String transport(JsonObject entry, String queue, String field) {
    String value = text(entry, queue, field, true);
    try {
      return Transports.resolve(value);
    } catch (UnknownTransportException e) {
      throw new ConfigException("queues config: queue '" + queue + "', key '" + field + "': " + e.getMessage(), e);
    }
  }

  private static String text(JsonObject entry, String queue, String field, boolean required) {
    Object value = entry.getValue(field);
    if (value == null) {
      if (required) {
        throw new ConfigException("queues config: queue '" + queue + "' is missing key '" + field + "'");
      }
      return null;
    }
    if (!(value instanceof String) || ((String) value).isBlank()) {
      throw new ConfigException("queues config: queue '" + queue + "', key '" + field
        + "' must be a non-empty string, was " + value);
    }
    return (String) value;
  }
}
