package dev.streamtools.faults;

import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Counts for one queue, from the producers' and the consumers' event files: what was sent, confirmed, failed,
 * handled, lost (confirmed and never handled, nor dead-lettered when that was expected) and handled more than
 * once.
 */
final class Tally {

  final String queue;
  final long attempted;
  final Set<String> confirmed = new HashSet<>();
  final Map<String, String> failed = new LinkedHashMap<>();
  final Map<String, Integer> handledCount = new HashMap<>();
  /** Every H event of the queue, all consumers, in time order, tagged with the consumer's name in "c". */
  final List<JsonObject> handledInOrder = new ArrayList<>();
  final Set<String> lost = new TreeSet<>();
  final Set<String> unconfirmedHandled = new TreeSet<>();
  final long duplicates;

  private Tally(String queue, Collection<Events> producers, Map<String, Events> consumers, Set<String> deadLettered) {
    this.queue = queue;
    long att = 0;
    for (Events p : producers) {
      for (JsonObject e : p.refresh().all()) {
        if (!queue.equals(e.getString("q"))) {
          continue;
        }
        if ("C".equals(e.getString("e"))) {
          confirmed.add(e.getString("id"));
          att++;
        } else if ("X".equals(e.getString("e"))) {
          failed.put(e.getString("id"), e.getString("err"));
          att++;
        }
      }
    }
    this.attempted = att;
    consumers.forEach((name, events) -> {
      for (JsonObject e : events.refresh().all()) {
        if ("H".equals(e.getString("e")) && queue.equals(e.getString("q"))) {
          handledInOrder.add(e.copy().put("c", name));
          handledCount.merge(e.getString("id"), 1, Integer::sum);
        }
      }
    });
    // stable: within one consumer the file order is the handling order
    handledInOrder.sort(Comparator.comparingLong(e -> e.getLong("t")));
    for (String id : confirmed) {
      if (!handledCount.containsKey(id) && !deadLettered.contains(id)) {
        lost.add(id);
      }
    }
    for (String id : handledCount.keySet()) {
      if (!confirmed.contains(id)) {
        unconfirmedHandled.add(id);
      }
    }
    this.duplicates = handledCount.values().stream().mapToLong(c -> c - 1L).sum();
  }

  static Tally of(String queue, Collection<Events> producers, Map<String, Events> consumers,
                  Set<String> deadLettered) {
    return new Tally(queue, producers, consumers, deadLettered);
  }

  long handledUnique() {
    return handledCount.size();
  }

  /** @return the ids handled more than once */
  Set<String> duplicateIds() {
    return handledCount.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey)
      .collect(Collectors.toCollection(TreeSet::new));
  }

  /**
   * @return the distinct send errors with their counts, most frequent first: the exception's own words, without
   *     the transport/queue/message-id prefix every one of them carries, cut to 140 characters
   */
  Map<String, Long> failureSummary() {
    Map<String, Long> byError = failed.values().stream()
      .map(Tally::normalize)
      .collect(Collectors.groupingBy(err -> err, Collectors.counting()));
    return byError.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
      .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, LinkedHashMap::new));
  }

  static String normalize(String err) {
    if (err == null) {
      return "null";
    }
    String e = err.replaceFirst("^[\\w.$]+(Exception|Error): ", "")
      .replaceFirst("^\\[[a-z]+ queue '[^']*'\\] send of message \\S+ failed: ", "")
      .replaceAll("faults-[a-z0-9-]+", "<queue>")
      .replaceAll("127\\.0\\.0\\.1:\\d+", "127.0.0.1:<port>")
      .replaceAll("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>");
    return e.length() > 140 ? e.substring(0, 137) + "..." : e;
  }

  /**
   * Per-key order: walking every handling of every consumer in time order, the first handling of a message must
   * come after the first handling of every confirmed message of the same key with a lower sequence number.
   * Redeliveries (second handlings) are not order violations: they are duplicates, counted as such.
   *
   * @return the violations, as readable lines (empty when order held)
   */
  List<String> perKeyOrderViolations() {
    Map<String, TreeSet<Long>> pendingByKey = new HashMap<>();
    Map<String, Long> seqOf = new HashMap<>();
    for (JsonObject e : handledInOrder) {
      seqOf.putIfAbsent(e.getString("id"), e.getLong("s"));
    }
    // the confirmed sequence numbers of each key: each must be handled before any higher one
    Map<String, String> keyOfConfirmed = new HashMap<>();
    for (JsonObject e : handledInOrder) {
      if (confirmed.contains(e.getString("id"))) {
        keyOfConfirmed.put(e.getString("id"), e.getString("k"));
      }
    }
    keyOfConfirmed.forEach((id, k) -> pendingByKey.computeIfAbsent(k, x -> new TreeSet<>()).add(seqOf.get(id)));
    List<String> violations = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (JsonObject e : handledInOrder) {
      String id = e.getString("id");
      if (!seen.add(id)) {
        continue;
      }
      String k = e.getString("k");
      long s = e.getLong("s");
      TreeSet<Long> pending = pendingByKey.getOrDefault(k, new TreeSet<>());
      Long lowest = pending.isEmpty() ? null : pending.first();
      if (lowest != null && lowest < s) {
        violations.add("key " + k + ": seq " + s + " (" + id + ", consumer " + e.getString("c")
          + ") was handled before seq " + lowest);
      }
      pending.remove(s);
    }
    return violations;
  }
}
