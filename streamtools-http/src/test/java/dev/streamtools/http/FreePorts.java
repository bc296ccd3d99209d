package dev.streamtools.http;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/** Free local ports for tests, so parallel builds never collide on a fixed one. */
final class FreePorts {

  private static final Path EPHEMERAL_RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
  private static final int LOWEST = 10_000;
  private static final int ATTEMPTS = 200;

  private FreePorts() {
  }

  /**
   * A port below the kernel's ephemeral range: a port that range gave us (port 0) may be handed to some
   * outgoing connection of this very JVM before our server binds it, which made a server start fail with
   * "Address already in use". Below the range only an explicit bind can take it.
   *
   * @return a port nothing listened on a moment ago
   */
  static int free() {
    int below = firstEphemeralPort();
    for (int i = 0; i < ATTEMPTS; i++) {
      int candidate = ThreadLocalRandom.current().nextInt(LOWEST, below);
      try (ServerSocket s = new ServerSocket(candidate, 1, InetAddress.getLoopbackAddress())) {
        return s.getLocalPort();
      } catch (IOException taken) {
        // someone listens there: try another
      }
    }
    throw new IllegalStateException("no free port in " + LOWEST + ".." + below + " after " + ATTEMPTS
      + " attempts");
  }

  private static int firstEphemeralPort() {
    try {
      // not readString: it reads a /proc file as shorter than it is
      return Integer.parseInt(Files.readAllLines(EPHEMERAL_RANGE).get(0).trim().split("\\s+")[0]);
    } catch (IOException | RuntimeException notLinux) {
      return 32_768; // the Linux default, and below the IANA range other systems use
    }
  }
}
