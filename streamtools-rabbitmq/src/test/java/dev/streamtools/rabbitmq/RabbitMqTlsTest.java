package dev.streamtools.rabbitmq;

import dev.streamtools.ConsumerLoop;
import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.RouteOptions;
import dev.streamtools.StreamtoolsException;
import dev.streamtools.Transports;
import dev.streamtools.testkit.Brokers;
import dev.streamtools.testkit.Received;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PfxOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.streamtools.rabbitmq.Rmq.failureOf;
import static dev.streamtools.rabbitmq.Rmq.join;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * TLS, against a TLS-terminating proxy in front of the broker (the shared test broker listens on plain AMQP
 * only): a certificate for {@code localhost} made with the JDK's keytool, trusted through RMQ_TLS_CA_FILE.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RabbitMqTlsTest {

  private static final String STORE_PASS = "test-store-pass";

  @TempDir
  static Path dir;
  private static Path keyStore;
  private static Path caPem;

  private Vertx vertx;
  private FaultProxy tlsProxy;
  private final List<String> queues = new ArrayList<>();
  private final List<Producer> producers = new ArrayList<>();
  private final List<ConsumerLoop> loops = new ArrayList<>();

  @BeforeAll
  static void makeCertificate() throws Exception {
    keyStore = dir.resolve("broker.p12");
    caPem = dir.resolve("ca.pem");
    Rmq.run(Duration.ofSeconds(60), "keytool", "-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048",
      "-dname", "CN=localhost", "-ext", "SAN=dns:localhost", "-validity", "2", "-storetype", "PKCS12",
      "-keystore", keyStore.toString(), "-storepass", STORE_PASS, "-keypass", STORE_PASS);
    Rmq.run(Duration.ofSeconds(60), "keytool", "-exportcert", "-rfc", "-alias", "broker", "-keystore",
      keyStore.toString(), "-storepass", STORE_PASS, "-file", caPem.toString());
  }

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    Brokers.requireRabbitMq();
    tlsProxy = FaultProxy.start(vertx, Brokers.rabbitMqHost(), Brokers.rabbitMqPort(), new NetServerOptions()
      .setSsl(true)
      .setKeyCertOptions(new PfxOptions().setPath(keyStore.toString()).setPassword(STORE_PASS)));
  }

  @AfterEach
  void tearDown() throws Exception {
    for (ConsumerLoop l : loops) {
      join(l.close());
    }
    for (Producer p : producers) {
      join(p.close());
    }
    tlsProxy.close();
    join(vertx.close());
    Rmq.deleteQueues(queues.toArray(new String[0]));
  }

  @Test
  void messagesTravelOverTls() throws Exception {
    String queue = queue("tls");
    JsonObject config = tls("localhost").put(RabbitMqSettings.TLS_CA_FILE, caPem.toString());
    Received received = new Received();
    ConsumerLoop loop = Transports.CONSUMER_LOOPS.get(Transports.RABBITMQ).create(vertx, queue, config);
    loops.add(loop);
    join(loop.start(m -> {
      received.add(m);
      return Future.succeededFuture();
    }, RouteOptions.defaults()));
    Producer producer = Transports.PRODUCERS.get(Transports.RABBITMQ).create(vertx, queue, config);
    producers.add(producer);

    join(producer.send(Message.json(new JsonObject().put("secure", true))));

    await().atMost(Rmq.WAIT).until(() -> received.size() == 1);
    assertThat(received.messages().get(0).json().getBoolean("secure")).isTrue();
    assertThat(tlsProxy.accepted()).as("both connections went through the TLS proxy").isEqualTo(2);
  }

  @Test
  void anUntrustedCertificateIsRefused() throws Exception {
    Producer producer = Transports.PRODUCERS.get(Transports.RABBITMQ).create(vertx, queue("untrusted"), tls("localhost"));
    producers.add(producer);

    Throwable e = failureOf(producer.init());

    assertThat(e).isInstanceOf(StreamtoolsException.class).hasMessageContaining("amqps://localhost:")
      .hasMessageContaining("SSLHandshakeException");
  }

  @Test
  void theBrokerNameIsCheckedUnlessTurnedOff() throws Exception {
    // the certificate names localhost, not 127.0.0.1
    JsonObject byIp = tls("127.0.0.1").put(RabbitMqSettings.TLS_CA_FILE, caPem.toString());
    Producer checked = Transports.PRODUCERS.get(Transports.RABBITMQ).create(vertx, queue("hostname"), byIp);
    producers.add(checked);
    assertThat(failureOf(checked.init())).isInstanceOf(StreamtoolsException.class)
      .hasMessageContaining("SSLHandshakeException");

    String queue = queue("no-hostname-check");
    Producer unchecked = Transports.PRODUCERS.get(Transports.RABBITMQ)
      .create(vertx, queue, byIp.copy().put(RabbitMqSettings.TLS_VERIFY_HOSTNAME, false));
    producers.add(unchecked);
    join(unchecked.send(Message.text("hostname not checked")));
  }

  private JsonObject tls(String host) {
    return Rmq.config()
      .put(RabbitMqSettings.HOST, host)
      .put(RabbitMqSettings.PORT, tlsProxy.port())
      .put(RabbitMqSettings.TLS, true);
  }

  private String queue(String base) {
    String q = Rmq.queue(base);
    queues.add(q);
    return q;
  }
}
