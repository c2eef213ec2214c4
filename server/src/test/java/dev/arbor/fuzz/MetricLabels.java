package dev.arbor.fuzz;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Reads label values out of a Prometheus text page: a stream of requests for made-up groups,
 * shards or nodes must not grow the node's series (each series is kept for the process's life).
 */
final class MetricLabels {
  private MetricLabels() {}

  /** The sample lines of {@code prefix} metrics whose {@code label} value fails {@code ok}. */
  static List<String> offending(String page, String prefix, String label, Predicate<String> ok) {
    List<String> bad = new ArrayList<>();
    for (String line : page.split("\n")) {
      if (!line.startsWith(prefix)) {
        continue;
      }
      String v = value(line, label);
      if (v != null && !ok.test(v)) {
        bad.add(line.length() > 300 ? line.substring(0, 300) + "..." : line);
      }
    }
    return bad;
  }

  /** The label's value in one sample line, or null (a scan, not a regex: values may be 70,000 characters). */
  private static String value(String line, String label) {
    for (String start : new String[] {"{" + label + "=\"", "," + label + "=\""}) {
      int at = line.indexOf(start);
      if (at < 0) {
        continue;
      }
      StringBuilder v = new StringBuilder();
      for (int i = at + start.length(); i < line.length(); i++) {
        char c = line.charAt(i);
        if (c == '\\' && i + 1 < line.length()) {
          v.append(line.charAt(++i));
        } else if (c == '"') {
          return v.toString();
        } else {
          v.append(c);
        }
      }
    }
    return null;
  }

  /** Repair series labelled with a group other than {@code groups} or a shard outside 0..shards-1. */
  static List<String> strayRepairSeries(String page, Set<String> groups, int shards) {
    List<String> bad = new ArrayList<>(offending(page, "arbor_repair", "group", groups::contains));
    bad.addAll(offending(page, "arbor_repair", "shard", s -> s.matches("\\d{1,9}") && Integer.parseInt(s) < shards));
    return bad;
  }
}
