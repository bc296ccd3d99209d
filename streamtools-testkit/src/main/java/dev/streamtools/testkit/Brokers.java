package dev.streamtools.testkit;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Where the test brokers are, and a protocol-level check that they answer. Tests call
 * {@link #requireRabbitMq()} / {@link #requireKafka()} first: a broker that cannot be reached fails the
 * test with the command that starts it, never skips it.
 *
 * <p>Addresses come from {@code RMQ_HOST}/{@code RMQ_PORT} and {@code KAFKA_BOOTSTRAP_SERVERS}, with the
 * defaults {@code scripts/brokers.sh up} uses.
 */
public final class Brokers {

  private static final int TIMEOUT_MILLIS = 5_000;
  private static final String START_HINT = "start it with: scripts/brokers.sh up";

  private Brokers() {
  }

  /** @return the RabbitMQ host tests use */
  public static String rabbitMqHost() {
    return env("RMQ_HOST", "127.0.0.1");
  }

  /** @return the RabbitMQ port tests use */
  public static int rabbitMqPort() {
    return Integer.parseInt(env("RMQ_PORT", "5672"));
  }

  /** @return the Kafka bootstrap servers tests use */
  public static String kafkaBootstrapServers() {
    return env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092");
  }

  /**
   * Opens an AMQP 0-9-1 connection far enough to read the broker's {@code connection.start}.
   *
   * @return the server product and version the broker announced
   * @throws AssertionError if RabbitMQ does not answer
   */
  public static String requireRabbitMq() {
    String where = rabbitMqHost() + ":" + rabbitMqPort();
    try (Socket s = connect(rabbitMqHost(), rabbitMqPort())) {
      s.getOutputStream().write(new byte[] {'A', 'M', 'Q', 'P', 0, 0, 9, 1});
      DataInputStream in = new DataInputStream(s.getInputStream());
      int frameType = in.readUnsignedByte();
      in.readUnsignedShort();
      int size = in.readInt();
      byte[] payload = new byte[size];
      in.readFully(payload);
      int classId = ((payload[0] & 0xff) << 8) | (payload[1] & 0xff);
      int methodId = ((payload[2] & 0xff) << 8) | (payload[3] & 0xff);
      if (frameType != 1 || classId != 10 || methodId != 10) {
        throw new AssertionError("RabbitMQ at " + where + " did not answer with connection.start (frame "
          + frameType + ", method " + classId + "." + methodId + ")");
      }
      String props = new String(payload, StandardCharsets.ISO_8859_1);
      return props.contains("RabbitMQ") ? "RabbitMQ " + versionAfter(props) : "AMQP 0-9-1 broker";
    } catch (IOException e) {
      throw new AssertionError("RabbitMQ is not reachable at " + where + " (" + e + "); " + START_HINT, e);
    }
  }

  /**
   * Sends a Kafka {@code ApiVersions} request to the first bootstrap server and reads the answer.
   *
   * @return how many API keys the broker supports
   * @throws AssertionError if Kafka does not answer
   */
  public static int requireKafka() {
    String first = kafkaBootstrapServers().split(",")[0].trim();
    int colon = first.lastIndexOf(':');
    String host = first.substring(0, colon);
    int port = Integer.parseInt(first.substring(colon + 1));
    try (Socket s = connect(host, port)) {
      byte[] clientId = "streamtools-smoke".getBytes(StandardCharsets.UTF_8);
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      int correlationId = 0x5eed;
      out.writeInt(2 + 2 + 4 + 2 + clientId.length);
      out.writeShort(18); // ApiVersions
      out.writeShort(0);
      out.writeInt(correlationId);
      out.writeShort(clientId.length);
      out.write(clientId);
      out.flush();
      DataInputStream in = new DataInputStream(s.getInputStream());
      int size = in.readInt();
      int gotCorrelation = in.readInt();
      short error = in.readShort();
      int apiKeys = in.readInt();
      if (size <= 0 || gotCorrelation != correlationId || error != 0 || apiKeys <= 0) {
        throw new AssertionError("Kafka at " + first + " answered ApiVersions oddly: correlation "
          + gotCorrelation + ", error " + error + ", " + apiKeys + " api keys");
      }
      return apiKeys;
    } catch (IOException e) {
      throw new AssertionError("Kafka is not reachable at " + first + " (" + e + "); " + START_HINT, e);
    }
  }

  /**
   * Restarts RabbitMQ ({@code scripts/brokers.sh restart-rabbitmq}) and waits until it answers again.
   *
   * @throws Exception if the script fails or RabbitMQ does not come back
   */
  public static void restartRabbitMq() throws Exception {
    runBrokersScript(brokersScript(null), "restart-rabbitmq");
    requireRabbitMq();
  }

  /**
   * Restarts the Kafka broker ({@code scripts/brokers.sh restart-kafka}) on the same data and waits until
   * it answers again. Only a broker that script started can be restarted.
   *
   * @throws Exception if no script started the running broker, the script fails, or Kafka does not come back
   */
  public static void restartKafka() throws Exception {
    runBrokersScript(brokersScript("target/brokers/kafka/kafka.pid"), "restart-kafka");
    requireKafka();
  }

  /**
   * The brokers.sh to run: {@code STREAMTOOLS_BROKERS_SCRIPT}, else the first scripts/brokers.sh above the
   * working directory or in the primary checkout of a git worktree (beside whose root {@code marker}
   * exists, when given: the script restarts only a Kafka broker it started).
   */
  private static Path brokersScript(String marker) throws Exception {
    String named = System.getenv("STREAMTOOLS_BROKERS_SCRIPT");
    if (named != null && !named.isBlank()) {
      return Path.of(named);
    }
    List<Path> candidates = new ArrayList<>();
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      candidates.add(dir.resolve("scripts/brokers.sh"));
    }
    Process git = new ProcessBuilder("git", "rev-parse", "--path-format=absolute", "--git-common-dir")
      .redirectErrorStream(true).start();
    String commonDir = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (git.waitFor(10, TimeUnit.SECONDS) && git.exitValue() == 0 && !commonDir.isEmpty()) {
      candidates.add(Path.of(commonDir).getParent().resolve("scripts/brokers.sh"));
    }
    for (Path candidate : candidates) {
      Path root = candidate.getParent().getParent();
      if (Files.isRegularFile(candidate) && (marker == null || Files.isRegularFile(root.resolve(marker)))) {
        return candidate;
      }
    }
    throw new AssertionError("no scripts/brokers.sh" + (marker == null ? "" : " beside " + marker) + " among "
      + candidates + "; " + START_HINT + ", or set STREAMTOOLS_BROKERS_SCRIPT");
  }

  private static void runBrokersScript(Path script, String command) throws Exception {
    File log = new File("target/" + command + ".log");
    Process p = new ProcessBuilder("bash", script.toString(), command)
      .redirectErrorStream(true)
      .redirectOutput(log)
      .start();
    if (!p.waitFor(180, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(script + " " + command + " did not finish in 180 s; see " + log);
    }
    if (p.exitValue() != 0) {
      throw new AssertionError(script + " " + command + " exited " + p.exitValue() + ": "
        + Files.readString(log.toPath(), StandardCharsets.UTF_8));
    }
  }

  private static Socket connect(String host, int port) throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress(host, port), TIMEOUT_MILLIS);
    s.setSoTimeout(TIMEOUT_MILLIS);
    return s;
  }

  private static String versionAfter(String props) {
    int i = props.indexOf("version");
    if (i < 0) {
      return "";
    }
    // field table entry: name, 'S', 4-byte length, bytes
    int start = i + "version".length() + 5;
    int end = start;
    while (end < props.length() && (Character.isDigit(props.charAt(end)) || props.charAt(end) == '.')) {
      end++;
    }
    return start < end ? props.substring(start, end) : "";
  }

  private static String env(String name, String defaultValue) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? defaultValue : v;
  }
}
