package dev.streamtools.bench.impl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs wrk (a separate process, so the load generator does not share the JVM it measures) with a Lua script that
 * POSTs a JSON body and prints wrk's own counters and latency percentiles in one parseable line.
 */
final class Wrk {

  private final String executable;
  private final Path script;

  Wrk(String executable, String jsonBody) throws IOException {
    this.executable = executable;
    this.script = Files.createTempFile("streamtools-bench-", ".lua");
    script.toFile().deleteOnExit();
    Files.writeString(script, String.join("\n",
      "wrk.method = \"POST\"",
      "wrk.body = '" + jsonBody.replace("\\", "\\\\").replace("'", "\\'") + "'",
      "wrk.headers[\"Content-Type\"] = \"application/json\"",
      "done = function(summary, latency, requests)",
      "  io.write(string.format(\"BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d connect=%d "
        + "read=%d write=%d timeout=%d\\n\",",
      "    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),",
      "    summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write,",
      "    summary.errors.timeout))",
      "end",
      ""), StandardCharsets.UTF_8);
  }

  /** Fails early, with the install hint, when wrk is missing. */
  void check() throws IOException, InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(executable, "--version").redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IOException("wrk is not installed (" + executable + "): apt-get install -y wrk, or run "
        + "scripts/bench.sh, which installs it", e);
    }
    p.getInputStream().readAllBytes();
    p.waitFor(10, TimeUnit.SECONDS);
  }

  RoundResult run(String url, int connections, double seconds) throws IOException, InterruptedException {
    int secs = Math.max(1, (int) Math.round(seconds));
    Process p = new ProcessBuilder(executable, "-t1", "-c" + connections, "-d" + secs + "s", "--timeout", "10s",
      "-s", script.toString(), url).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(secs + 30L, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("wrk did not end");
    }
    String line = out.lines().filter(l -> l.startsWith("BENCH ")).findFirst()
      .orElseThrow(() -> new IOException("wrk exited " + p.exitValue() + " without a result: " + out));
    Map<String, Long> v = new HashMap<>();
    for (String kv : line.substring(6).trim().split(" ")) {
      String[] parts = kv.split("=");
      v.put(parts[0], Long.parseLong(parts[1]));
    }
    long errors = v.get("non2xx") + v.get("connect") + v.get("read") + v.get("write") + v.get("timeout");
    return new RoundResult(v.get("requests") - v.get("non2xx"), v.get("duration_us") * 1000, v.get("p50_us"),
      v.get("p99_us"), errors);
  }
}
