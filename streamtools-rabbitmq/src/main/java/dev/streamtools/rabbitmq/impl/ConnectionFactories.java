package dev.streamtools.rabbitmq.impl;

import com.rabbitmq.client.ConnectionFactory;
import dev.streamtools.ConfigException;
import dev.streamtools.rabbitmq.RabbitMqSettings;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Builds amqp-client connection factories from {@link RmqSettings}. */
final class ConnectionFactories {

  private static final ThreadFactory IO_THREADS = daemonThreads("streamtools-rmq-io-");

  private ConnectionFactories() {
  }

  static ConnectionFactory create(RmqSettings s) {
    ConnectionFactory f = new ConnectionFactory();
    f.setHost(s.host);
    f.setPort(s.port);
    f.setUsername(s.user);
    f.setPassword(s.pass);
    f.setVirtualHost(s.vhost);
    f.setConnectionTimeout(s.connectTimeoutMillis);
    f.setHandshakeTimeout(s.connectTimeoutMillis);
    f.setRequestedHeartbeat(s.heartbeatSeconds);
    // streamtools reconnects, re-declares and re-consumes itself (RmqConnection): amqp-client's own recovery
    // would race with it and keeps stale delivery tags and confirm sequence numbers alive across channels.
    f.setAutomaticRecoveryEnabled(false);
    f.setTopologyRecoveryEnabled(false);
    f.setThreadFactory(IO_THREADS);
    Map<String, Object> props = new HashMap<>(f.getClientProperties());
    props.put("product", "streamtools");
    f.setClientProperties(props);
    if (s.tls) {
      f.useSslProtocol(sslContext(s));
      if (s.tlsVerifyHostname) {
        f.enableHostnameVerification();
      }
    }
    return f;
  }

  private static SSLContext sslContext(RmqSettings s) {
    try {
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      if (s.tlsCaFile != null) {
        tmf.init(caStore(s.tlsCaFile));
      } else {
        tmf.init((KeyStore) null);
      }
      KeyManagerFactory kmf = null;
      if (s.tlsKeystore != null) {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        char[] pass = s.tlsKeystorePass.toCharArray();
        try (InputStream in = Files.newInputStream(Path.of(s.tlsKeystore))) {
          ks.load(in, pass);
        }
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pass);
      }
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      return ctx;
    } catch (IOException | GeneralSecurityException e) {
      // the message of a key store failure names the file, never its password
      throw new ConfigException("TLS settings for RabbitMQ cannot be used (" + RabbitMqSettings.TLS_CA_FILE + ", "
        + RabbitMqSettings.TLS_KEYSTORE + "): " + e.getClass().getSimpleName() + ": " + e.getMessage(), e);
    }
  }

  private static KeyStore caStore(String pemFile) throws IOException, GeneralSecurityException {
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    Collection<? extends Certificate> certs;
    try (InputStream in = Files.newInputStream(Path.of(pemFile))) {
      certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
    }
    if (certs.isEmpty()) {
      throw new GeneralSecurityException("no certificate in " + pemFile);
    }
    int i = 0;
    for (Certificate c : certs) {
      ks.setCertificateEntry("ca-" + i++, c);
    }
    return ks;
  }

  private static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
