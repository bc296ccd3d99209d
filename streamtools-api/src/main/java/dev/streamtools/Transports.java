package dev.streamtools;

import dev.streamtools.spi.Transport;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.AbstractMap;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The transports on the classpath, by name, found with {@link ServiceLoader}: adding
 * {@code streamtools-kafka} to a classpath is all it takes for {@value #KAFKA} to appear.
 *
 * <p>{@link #PRODUCERS} and {@link #CONSUMER_LOOPS} are unmodifiable. Their {@code get} also accepts
 * aliases (the Python seed's {@code KafkaHandler}, {@code HTTPHandler}, {@code RMQIOHandler}, any case)
 * and, for a name no module provides, throws {@link UnknownTransportException} listing the known names
 * and the module that adds the missing one, instead of returning {@code null}.
 */
public final class Transports {

  /** HTTP: synchronous request/response, module {@code streamtools-http}. */
  public static final String HTTP = "http";
  /** RabbitMQ, module {@code streamtools-rabbitmq}. */
  public static final String RABBITMQ = "rabbitmq";
  /** Kafka, module {@code streamtools-kafka}. */
  public static final String KAFKA = "kafka";
  /** In-process, on the Vert.x event bus; always present. */
  public static final String MEMORY = "memory";

  /** The environment variable that selects the transport. */
  public static final String QUEUE_TYPE = "QUEUE_TYPE";

  private static final Map<String, String> MODULES = Map.of(
    HTTP, "streamtools-http", RABBITMQ, "streamtools-rabbitmq", KAFKA, "streamtools-kafka",
    MEMORY, "streamtools-api");

  // The Python streamtools named transports by handler class; configs written for it keep working.
  private static final Map<String, String> SEED_ALIASES = Map.of(
    "kafkahandler", KAFKA, "httphandler", HTTP, "rmqiohandler", RABBITMQ, "rmqhandler", RABBITMQ,
    "memoryhandler", MEMORY, "rmq", RABBITMQ, "amqp", RABBITMQ);

  private static final Map<String, Transport> TRANSPORTS = load();
  private static final Map<String, String> ALIASES = aliases(TRANSPORTS);

  /** Producer factories by transport name. */
  public static final Map<String, ProducerFactory> PRODUCERS = new Registry<>(t -> new ProducerFactory() {
    @Override
    public String transport() {
      return t.name();
    }

    @Override
    public Producer create(Vertx vertx, String queue, JsonObject config) {
      return t.createProducer(vertx, requireQueue(queue), config == null ? new JsonObject() : config);
    }
  });

  /** Consumer loop factories by transport name. */
  public static final Map<String, ConsumerLoopFactory> CONSUMER_LOOPS = new Registry<>(t -> new ConsumerLoopFactory() {
    @Override
    public String transport() {
      return t.name();
    }

    @Override
    public ConsumerLoop create(Vertx vertx, String queue, JsonObject config) {
      return t.createConsumerLoop(vertx, requireQueue(queue), config == null ? new JsonObject() : config);
    }
  });

  private Transports() {
  }

  /**
   * @return the transport named by {@code QUEUE_TYPE}, canonical, default {@value #HTTP}
   * @throws UnknownTransportException if no module on the classpath provides it
   */
  public static String queueType() {
    String value = System.getenv(QUEUE_TYPE);
    return value == null || value.isBlank() ? HTTP : resolve(value);
  }

  /**
   * @param nameOrAlias a transport name or alias, any case
   * @return the canonical name
   * @throws UnknownTransportException if no module on the classpath provides it
   */
  public static String resolve(String nameOrAlias) {
    if (nameOrAlias == null) {
      throw new UnknownTransportException(null, "transport name is missing; known transports: " + known());
    }
    String lower = nameOrAlias.trim().toLowerCase(Locale.ROOT);
    String canonical = ALIASES.getOrDefault(lower, SEED_ALIASES.getOrDefault(lower, lower));
    if (TRANSPORTS.containsKey(canonical)) {
      return canonical;
    }
    String module = MODULES.get(canonical);
    String hint = module == null ? "" : "; add the " + module + " module to the classpath to use it";
    throw new UnknownTransportException(nameOrAlias, "unknown transport '" + nameOrAlias + "'" + hint
      + "; known transports: " + known());
  }

  /** @return the names of the transports on the classpath, sorted */
  public static Set<String> names() {
    return TRANSPORTS.keySet();
  }

  private static String known() {
    return String.join(", ", TRANSPORTS.keySet());
  }

  private static String requireQueue(String queue) {
    if (queue == null || queue.isBlank()) {
      throw new ConfigException("queue name must not be empty");
    }
    return queue;
  }

  private static Map<String, Transport> load() {
    Map<String, Transport> byName = new TreeMap<>();
    for (Transport t : ServiceLoader.load(Transport.class, Transports.class.getClassLoader())) {
      Transport previous = byName.putIfAbsent(t.name(), t);
      if (previous != null && previous.getClass() != t.getClass()) {
        throw new IllegalStateException("two transports are named '" + t.name() + "': "
          + previous.getClass().getName() + " and " + t.getClass().getName());
      }
    }
    return Collections.unmodifiableMap(byName);
  }

  private static Map<String, String> aliases(Map<String, Transport> transports) {
    Map<String, String> aliases = new LinkedHashMap<>();
    transports.values().forEach(t -> t.aliases().forEach(a -> aliases.put(a.toLowerCase(Locale.ROOT), t.name())));
    return Collections.unmodifiableMap(aliases);
  }

  /** An unmodifiable name -> factory map whose {@code get} resolves aliases and explains unknown names. */
  private static final class Registry<F> extends AbstractMap<String, F> {
    private final Map<String, F> factories;

    Registry(Function<Transport, F> factory) {
      Map<String, F> m = new TreeMap<>();
      TRANSPORTS.forEach((name, t) -> m.put(name, factory.apply(t)));
      this.factories = Collections.unmodifiableMap(m);
    }

    @Override
    public F get(Object key) {
      return factories.get(resolve(key == null ? null : key.toString()));
    }

    @Override
    public boolean containsKey(Object key) {
      return key instanceof String && factories.containsKey(key);
    }

    @Override
    public Set<Entry<String, F>> entrySet() {
      return factories.entrySet();
    }
  }
}
