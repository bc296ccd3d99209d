package dev.streamtools.faults;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One row of the reliability table: a scenario on one transport, its counts, the duplicate bound it promises,
 * what else was measured, and the checks that failed (none when it passed).
 */
public final class ScenarioResult {

  final String scenario;
  final String transport;
  long sent = -1;
  long confirmed = -1;
  long failedSends = -1;
  long handled = -1;
  long lost = -1;
  long duplicates = -1;
  String bound = "";
  final List<String> notes = new ArrayList<>();
  final List<String> failures = new ArrayList<>();
  final List<String> details = new ArrayList<>();
  Map<String, Long> failedSendsByError = Map.of();
  String notApplicable;
  long millis;

  ScenarioResult(String scenario, String transport) {
    this.scenario = scenario;
    this.transport = transport;
  }

  static ScenarioResult notApplicable(String scenario, String transport, String why) {
    ScenarioResult r = new ScenarioResult(scenario, transport);
    r.notApplicable = why;
    return r;
  }

  /** Fills the counts from a tally. */
  ScenarioResult counts(Tally t) {
    sent = t.attempted;
    confirmed = t.confirmed.size();
    failedSends = t.failed.size();
    handled = t.handledUnique();
    lost = t.lost.size();
    duplicates = t.duplicates;
    if (!t.lost.isEmpty()) {
      failures.add(t.lost.size() + " confirmed message(s) never handled (LOST): " + first(t.lost, 20));
    }
    if (!t.failed.isEmpty()) {
      failedSendsByError = t.failureSummary();
      details.add("failed sends by error: " + failedSendsByError);
    }
    if (!t.unconfirmedHandled.isEmpty()) {
      notes.add(t.unconfirmedHandled.size() + " unconfirmed but delivered");
    }
    return this;
  }

  void check(boolean ok, String failure) {
    if (!ok) {
      failures.add(failure);
    }
  }

  /** @return the scenario name */
  public String scenario() {
    return scenario;
  }

  /** @return the transport */
  public String transport() {
    return transport;
  }

  /** @return the checks that failed; empty when the scenario passed or does not apply */
  public List<String> failures() {
    return failures;
  }

  /** @return why the scenario does not apply to the transport, or {@code null} */
  public String notApplicable() {
    return notApplicable;
  }

  /** @return confirmed messages never handled */
  public long lost() {
    return lost;
  }

  /** @return extra handlings */
  public long duplicates() {
    return duplicates;
  }

  /** @return whether it passed (or does not apply) */
  public boolean passed() {
    return failures.isEmpty();
  }

  static String first(java.util.Collection<String> ids, int n) {
    List<String> l = new ArrayList<>(ids);
    return (l.size() <= n ? l : l.subList(0, n)) + (l.size() > n ? " ..." : "");
  }

  /** @return "N x `error`" for each distinct error of a failed send, for the report; empty when none failed */
  String failedSendsLine() {
    if (failedSendsByError.isEmpty()) {
      return "";
    }
    StringBuilder sb = new StringBuilder();
    failedSendsByError.forEach((err, n) -> sb.append(sb.length() == 0 ? "" : "; ")
      .append(String.format(Locale.ROOT, "%,d x `%s`", n, err.replace("`", "'"))));
    return sb.toString();
  }

  static String header() {
    return "| # | scenario | transport | sent | confirmed | failed sends | handled | lost | duplicates | duplicate bound "
      + "| also measured | result |\n|---|---|---|---:|---:|---:|---:|---:|---:|---|---|---|";
  }

  String row() {
    if (notApplicable != null) {
      return String.format(Locale.ROOT, "| %s | %s | %s | | | | | | | | n/a: %s | n/a |", scenarioNumber(), scenarioName(),
        transport, notApplicable);
    }
    return String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |", scenarioNumber(),
      scenarioName(), transport, n(sent), n(confirmed), n(failedSends), n(handled), n(lost), n(duplicates), bound,
      String.join("; ", notes), failures.isEmpty() ? "pass" : "**FAIL**: " + String.join("; ", failures));
  }

  private String scenarioNumber() {
    int sp = scenario.indexOf(' ');
    return sp > 0 ? scenario.substring(0, sp) : scenario;
  }

  private String scenarioName() {
    int sp = scenario.indexOf(' ');
    return sp > 0 ? scenario.substring(sp + 1) : scenario;
  }

  private static String n(long v) {
    return v < 0 ? "" : String.format(Locale.ROOT, "%,d", v);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(row());
    details.forEach(d -> sb.append("\n    ").append(d));
    sb.append(String.format(Locale.ROOT, "\n    (%.1f s)", millis / 1000.0));
    return sb.toString();
  }
}
