package dev.streamtools.bench.impl;

import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs wrk (a separate process, so the load generator does not share the JVM it measures) with a Lua script that
 * POSTs a JSON body and prints two parseable lines: wrk's own counters and percentiles, and every latency it
 * recorded with its count, from which a round's histogram is rebuilt (a sliced round merges its slices').
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
      "  io.write(string.format(\"BENCH requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d "
        + "timeout=%d\\n\",",
      "    summary.requests, summary.duration,",
      "    summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write,",
      "    summary.errors.timeout))",
      // every latency wrk recorded (microseconds) with its count, so that slices merge into exact percentiles
      "  io.write(\"BENCH_LATENCY\")",
      "  for i = 1, #latency do",
      "    local v, n = latency(i)",
      "    io.write(string.format(\" %d:%d\", v, n))",
      "  end",
      "  io.write(\"\\n\")",
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
    return parse(out, p.exitValue());
  }

  /**
   * @param out what wrk printed, with the lines of the script's {@code done}
   * @param exitValue wrk's exit value, for the error
   * @return the round: requests answered 2xx over wrk's own duration, with wrk's latencies
   * @throws IOException if the output lacks the counters or the latencies
   */
  static RoundResult parse(String out, int exitValue) throws IOException {
    String line = out.lines().filter(l -> l.startsWith("BENCH ")).findFirst()
      .orElseThrow(() -> new IOException("wrk exited " + exitValue + " without a result: " + out));
    Map<String, Long> v = new HashMap<>();
    for (String kv : line.substring(6).trim().split(" ")) {
      String[] parts = kv.split("=");
      v.put(parts[0], Long.parseLong(parts[1]));
    }
    long errors = v.get("non2xx") + v.get("connect") + v.get("read") + v.get("write") + v.get("timeout");
    long ok = v.get("requests") - v.get("non2xx");
    long nanos = v.get("duration_us") * 1000;
    String distribution = out.lines().filter(l -> l.startsWith("BENCH_LATENCY")).findFirst()
      .orElseThrow(() -> new IOException("wrk exited " + exitValue + " without its latencies: " + out));
    // empty when no request was answered: the slice still merges with the others
    Histogram latency = new Histogram(3);
    for (String vn : distribution.substring("BENCH_LATENCY".length()).trim().split(" ")) {
      if (!vn.isEmpty()) {
        String[] parts = vn.split(":");
        latency.recordValueWithCount(Math.max(1, Long.parseLong(parts[0])) * 1000, Long.parseLong(parts[1]));
      }
    }
    return RoundResult.timed(ok, nanos, latency, errors);
  }
}
