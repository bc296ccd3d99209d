package dev.streamtools.rabbitmq;

/**
 * The settings of the {@code rabbitmq} transport, by name. Each is read from the config object given to
 * a factory ({@code Transports.PRODUCERS.get("rabbitmq").create(vertx, queue, config)}) first, then from
 * the environment variable of the same name, then the default written here.
 *
 * <p>Secrets ({@link #PASS}, {@link #TLS_KEYSTORE_PASS}) and the user name never appear in logs or in
 * exception messages.
 */
public final class RabbitMqSettings {

  /** Broker host; default {@code 127.0.0.1}. */
  public static final String HOST = "RMQ_HOST";
  /** Broker port; default {@code 5672}, or {@code 5671} when {@link #TLS} is on. */
  public static final String PORT = "RMQ_PORT";
  /** User name; default {@code guest}. */
  public static final String USER = "RMQ_USER";
  /** Password; default {@code guest}. */
  public static final String PASS = "RMQ_PASS";
  /** Virtual host; default {@code /}. */
  public static final String VHOST = "RMQ_VHOST";
  /** {@code true} to connect with TLS; default {@code false}. */
  public static final String TLS = "RMQ_TLS";
  /**
   * PEM file of the CA certificate(s) the broker's certificate must chain to; default: the JVM's trust
   * store ({@code javax.net.ssl.trustStore} or the JDK's cacerts).
   */
  public static final String TLS_CA_FILE = "RMQ_TLS_CA_FILE";
  /** {@code false} to skip checking that the broker's certificate names {@link #HOST}; default {@code true}. */
  public static final String TLS_VERIFY_HOSTNAME = "RMQ_TLS_VERIFY_HOSTNAME";
  /** PKCS#12 key store holding the client certificate for mutual TLS; default none. */
  public static final String TLS_KEYSTORE = "RMQ_TLS_KEYSTORE";
  /** Password of {@link #TLS_KEYSTORE}; default empty. */
  public static final String TLS_KEYSTORE_PASS = "RMQ_TLS_KEYSTORE_PASS";
  /** {@code classic} or {@code quorum}: the type of the queues streamtools declares; default {@code classic}. */
  public static final String QUEUE_TYPE = "RMQ_QUEUE_TYPE";
  /**
   * Exchange producers publish to and the queue is bound to; default none: the default exchange, routed by
   * queue name.
   */
  public static final String EXCHANGE = "RMQ_EXCHANGE";
  /** Type of {@link #EXCHANGE} when streamtools declares it; default {@code direct}. */
  public static final String EXCHANGE_TYPE = "RMQ_EXCHANGE_TYPE";
  /** Routing key for {@link #EXCHANGE}, used to publish and to bind the queue; default the queue name. */
  public static final String ROUTING_KEY = "RMQ_ROUTING_KEY";
  /**
   * Most messages a producer has published and the broker has not yet confirmed; default {@code 192}.
   * Confirms of persistent messages wait for the broker's disk sync, so one-at-a-time confirms are slow:
   * measured on this project's 2-core machine (broker on the same host, 100-byte messages, other builds
   * running), a producer confirmed about 340 msg/s with a window of 1, 2,700 with 8, 6,400 with 64, 7,000 with
   * 192 and 6,900 with 512. The gain stops around 192 (RabbitMQ's PerfTest baseline uses the same window);
   * a larger window only holds more unconfirmed messages in memory and, when a connection drops, fails more
   * sends the broker may already have stored (duplicates if the caller resends).
   */
  public static final String CONFIRM_WINDOW = "RMQ_CONFIRM_WINDOW";
  /**
   * How long a send may take, waiting for a connection, a window slot and the broker's confirm, before it
   * fails with a {@code SendException}; default {@code 30000} ms.
   */
  public static final String SEND_TIMEOUT_MS = "RMQ_SEND_TIMEOUT_MS";
  /**
   * Most bytes of message bodies a producer holds waiting to be published (during an outage or a burst);
   * beyond it a send fails at once; default {@code 67108864} (64 MiB).
   */
  public static final String MAX_PENDING_BYTES = "RMQ_MAX_PENDING_BYTES";
  /** TCP connect and AMQP handshake timeout; default {@code 10000} ms. */
  public static final String CONNECT_TIMEOUT_MS = "RMQ_CONNECT_TIMEOUT_MS";
  /** AMQP heartbeat; default {@code 30} s. A dead peer is noticed after about two intervals. */
  public static final String HEARTBEAT_S = "RMQ_HEARTBEAT_S";
  /** First delay before reconnecting after a lost connection; default {@code 200} ms, doubling per failure. */
  public static final String RECONNECT_INITIAL_MS = "RMQ_RECONNECT_INITIAL_MS";
  /** Longest delay between reconnect attempts; default {@code 5000} ms. */
  public static final String RECONNECT_MAX_MS = "RMQ_RECONNECT_MAX_MS";
  /**
   * Prefix of the connection name shown by {@code rabbitmqctl list_connections client_properties} and the
   * management UI; default {@code streamtools}. The full name is {@code <prefix> <producer|consumer> <queue>}.
   */
  public static final String CONNECTION_NAME = "RMQ_CONNECTION_NAME";

  private RabbitMqSettings() {
  }
}
