package dev.streamtools.rabbitmq.impl;

import dev.streamtools.ConfigException;
import dev.streamtools.rabbitmq.RabbitMqSettings;
import dev.streamtools.spi.Settings;
import io.vertx.core.json.JsonObject;

import java.util.Locale;

/** The parsed, validated settings of one producer or consumer loop. Immutable. */
final class RmqSettings {

  enum QueueType { CLASSIC, QUORUM }

  final String host;
  final int port;
  final String user;
  final String pass;
  final String vhost;
  final boolean tls;
  final String tlsCaFile;
  final boolean tlsVerifyHostname;
  final String tlsKeystore;
  final String tlsKeystorePass;
  final QueueType queueType;
  final String exchange;
  final String exchangeType;
  final String routingKey;
  final int confirmWindow;
  final long sendTimeoutMillis;
  final long maxPendingBytes;
  final int connectTimeoutMillis;
  final int heartbeatSeconds;
  final long reconnectInitialMillis;
  final long reconnectMaxMillis;
  final String connectionName;

  private RmqSettings(Settings s) {
    host = s.string(RabbitMqSettings.HOST, "127.0.0.1");
    tls = s.bool(RabbitMqSettings.TLS, false);
    port = range(s, RabbitMqSettings.PORT, tls ? 5671 : 5672, 1, 65535);
    user = s.string(RabbitMqSettings.USER, "guest");
    pass = s.string(RabbitMqSettings.PASS, "guest");
    vhost = s.string(RabbitMqSettings.VHOST, "/");
    tlsCaFile = blankToNull(s.string(RabbitMqSettings.TLS_CA_FILE, null));
    tlsVerifyHostname = s.bool(RabbitMqSettings.TLS_VERIFY_HOSTNAME, true);
    tlsKeystore = blankToNull(s.string(RabbitMqSettings.TLS_KEYSTORE, null));
    tlsKeystorePass = s.string(RabbitMqSettings.TLS_KEYSTORE_PASS, "");
    String type = s.string(RabbitMqSettings.QUEUE_TYPE, "classic").trim().toLowerCase(Locale.ROOT);
    switch (type) {
      case "classic": queueType = QueueType.CLASSIC; break;
      case "quorum": queueType = QueueType.QUORUM; break;
      default: throw new ConfigException("setting " + RabbitMqSettings.QUEUE_TYPE + " must be classic or quorum, was '"
        + type + "'");
    }
    exchange = blankToNull(s.string(RabbitMqSettings.EXCHANGE, null));
    exchangeType = s.string(RabbitMqSettings.EXCHANGE_TYPE, "direct").trim().toLowerCase(Locale.ROOT);
    routingKey = s.string(RabbitMqSettings.ROUTING_KEY, null);
    confirmWindow = range(s, RabbitMqSettings.CONFIRM_WINDOW, 192, 1, 65535);
    sendTimeoutMillis = range(s, RabbitMqSettings.SEND_TIMEOUT_MS, 30_000, 1, Integer.MAX_VALUE);
    maxPendingBytes = range(s, RabbitMqSettings.MAX_PENDING_BYTES, 64 * 1024 * 1024, 1, Integer.MAX_VALUE);
    connectTimeoutMillis = range(s, RabbitMqSettings.CONNECT_TIMEOUT_MS, 10_000, 1, Integer.MAX_VALUE);
    heartbeatSeconds = range(s, RabbitMqSettings.HEARTBEAT_S, 30, 0, 65535);
    reconnectInitialMillis = range(s, RabbitMqSettings.RECONNECT_INITIAL_MS, 200, 1, Integer.MAX_VALUE);
    reconnectMaxMillis = Math.max(reconnectInitialMillis,
      range(s, RabbitMqSettings.RECONNECT_MAX_MS, 5_000, 1, Integer.MAX_VALUE));
    connectionName = s.string(RabbitMqSettings.CONNECTION_NAME, "streamtools");
  }

  static RmqSettings from(JsonObject config) {
    return new RmqSettings(Settings.of(config));
  }

  /** @return where this connects, for messages: never the user or password */
  String endpoint() {
    return (tls ? "amqps://" : "amqp://") + host + ":" + port + " vhost '" + vhost + "'";
  }

  private static int range(Settings s, String name, int def, int min, int max) {
    int v = s.integer(name, def);
    if (v < min || v > max) {
      throw new ConfigException("setting " + name + " must be between " + min + " and " + max + ", was " + v);
    }
    return v;
  }

  private static String blankToNull(String v) {
    return v == null || v.isBlank() ? null : v.trim();
  }
}
