package dev.streamtools.faults;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * Runs the fault scenarios (and the bad-input battery) as a program, prints the table and writes it as Markdown:
 * what {@code scripts/faults.sh} runs at full size. Exit status 1 if any row failed.
 */
@Command(name = "fault-suite", mixinStandardHelpOptions = true, sortOptions = false,
  description = "Fault scenarios of issue 6 against real processes and brokers; prints the reliability table.")
public final class FaultSuite implements Callable<Integer> {

  @Option(names = "--size", defaultValue = "full", description = "reduced or full; default ${DEFAULT-VALUE}")
  String size;

  @Option(names = "--slow-seconds", description = "Slow phase of scenario 6; default: 60 full, 10 reduced")
  Long slowSeconds;

  @Option(names = "--transports", split = ",", description = "Default: memory,http,kafka,rabbitmq")
  List<String> transports = new ArrayList<>(Scenarios.TRANSPORTS);

  @Option(names = "--scenarios", split = ",", description = "Default: 1,2,3,4,5,6")
  List<Integer> scenarios = new ArrayList<>(List.of(1, 2, 3, 4, 5, 6));

  @Option(names = "--no-bad-input", description = "Skip the bad-input battery")
  boolean skipBadInput;

  @Option(names = "--dir", defaultValue = "target/faults", description = "Logs and event files")
  Path dir;

  @Option(names = "--report", defaultValue = "target/faults/report.md", description = "The Markdown table")
  Path report;

  @Option(names = "--update", description = "Also replace the table between the markers "
    + BEGIN + " and " + END + " in this file (RELIABILITY.md)")
  Path update;

  static final String BEGIN = "<!-- faults-table:begin -->";
  static final String END = "<!-- faults-table:end -->";

  private FaultSuite() {
  }

  /**
   * @param args see {@code --help}
   */
  public static void main(String[] args) {
    Logging.configure();
    System.exit(new CommandLine(new FaultSuite()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Size s = Size.of(size);
    if (slowSeconds != null) {
      s = s.withSlowPhase(java.time.Duration.ofSeconds(slowSeconds));
    }
    long start = System.nanoTime();
    Scenarios sc = new Scenarios(s, dir.toAbsolutePath());
    List<ScenarioResult> rows = new ArrayList<>();
    for (int n : scenarios) {
      for (String t : transports) {
        System.out.printf(Locale.ROOT, "== scenario %s on %s%n", Scenarios.NAMES.get(n - 1), t);
        ScenarioResult r = sc.run(n, t);
        System.out.println(r);
        rows.add(r);
      }
    }
    List<BadInput.Result> bad = new ArrayList<>();
    if (!skipBadInput) {
      BadInput b = new BadInput(s, dir.toAbsolutePath());
      for (String t : transports) {
        if (!t.equals("memory")) {
          System.out.printf(Locale.ROOT, "== bad input on %s%n", t);
          List<BadInput.Result> results = b.run(t);
          results.forEach(System.out::println);
          bad.addAll(results);
        }
      }
    }
    long seconds = (System.nanoTime() - start) / 1_000_000_000L;
    String md = markdown(s, rows, bad, seconds);
    Scenarios.write(report.toAbsolutePath(), md);
    System.out.println();
    System.out.println(md);
    if (update != null) {
      String doc = Files.readString(update, StandardCharsets.UTF_8);
      int b = doc.indexOf(BEGIN);
      int e = doc.indexOf(END);
      if (b < 0 || e < b) {
        System.err.println(update + " has no " + BEGIN + " ... " + END + " markers; not updated");
        return 1;
      }
      Files.writeString(update, doc.substring(0, b + BEGIN.length()) + "\n" + md + doc.substring(e),
        StandardCharsets.UTF_8);
      System.out.println("table written to " + update);
    }
    boolean ok = rows.stream().allMatch(ScenarioResult::passed) && bad.stream().allMatch(BadInput.Result::passed);
    return ok ? 0 : 1;
  }

  static String markdown(Size s, List<ScenarioResult> rows, List<BadInput.Result> bad, long seconds) {
    StringBuilder sb = new StringBuilder();
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      host = "?";
    }
    sb.append(String.format(Locale.ROOT, "Run of %s, size **%s** (%,d messages per stream; scenario 3: %,d from %d "
        + "publishers; scenario 6: %d s slow phase, %,d waiting), %d cores, host %s, %d s in all.%n%n",
      ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")), s.name(),
      s.messages(), s.restartMessages(), s.restartPublishers(), s.slowPhase().toSeconds(), s.slowBacklog(),
      Runtime.getRuntime().availableProcessors(), host, seconds));
    sb.append(ScenarioResult.header()).append('\n');
    for (ScenarioResult r : rows) {
      sb.append(r.row()).append('\n');
    }
    if (rows.stream().anyMatch(r -> !r.failedSendsLine().isEmpty())) {
      sb.append("\nFailed sends, by error: each failed the caller's Future with that exception; the harness retries "
        + "none, so none of them was a promise.\n\n");
      for (ScenarioResult r : rows) {
        if (!r.failedSendsLine().isEmpty()) {
          sb.append("- ").append(r.scenario).append(", ").append(r.transport).append(": ").append(r.failedSendsLine())
            .append('\n');
        }
      }
    }
    if (!bad.isEmpty()) {
      sb.append('\n').append(BadInput.Result.header()).append('\n');
      for (BadInput.Result b : bad) {
        sb.append(b.row()).append('\n');
      }
    }
    return sb.toString();
  }
}
