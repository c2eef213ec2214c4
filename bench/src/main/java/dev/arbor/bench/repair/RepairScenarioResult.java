package dev.arbor.bench.repair;

import java.util.List;
import java.util.Map;

/**
 * The figures of one scenario. Repair figures (wall time, hops, bytes, repaired counts, CPU, peak
 * RSS) cover only the RunRepair calls; loading, tree builds and checks are reported apart.
 *
 * @param load how the data was loaded: "public" (liaison API) or "internal" (batches straight
 *     to the replicas' DataNodeService.Write; a setup shortcut, the repair is the same)
 * @param wallMillis sum over the RunRepair calls of the time from sending the request to the
 *     last round outcome (one call unless the first round left the trees different)
 * @param cpuSeconds per data node: utime + stime delta over the RunRepair calls
 * @param cpuSecondsWithRebuild the same from the first call until the trees were verified equal
 *     (adds the tree rebuilds a session schedules asynchronously after storing data)
 * @param repeatWallMillis {@code same} only: wall times of further RunRepair calls (warm)
 * @param peakRssBytes per data node: VmHWM, reset to the current RSS just before the first call
 *     when {@code rssScope} is "repair" (else the process's lifetime peak)
 * @param rssAnonBeforeBytes per data node: RssAnon just before the first call (heap and other
 *     anonymous memory)
 * @param rssFileBeforeBytes per data node: RssFile just before the first call (file-backed pages,
 *     mostly mmapped index files: part of VmRSS and VmHWM, but page cache)
 * @param divergedBefore keys whose copies differed between the replicas before the repair
 * @param missingBytes serialized size of the newest copy of each differing key
 * @param recordBytes serialized bytes of the records the sessions moved (HopResult.record_bytes);
 *     0 from builds that do not report it
 * @param differingAfter keys whose copies still differed after the repair (-1: not checked)
 * @param trace the repair spans of the scenario's group from every node (RepairAdminService.Traces)
 */
record RepairScenarioResult(
    String scenario,
    String description,
    int properties,
    int sizeBytes,
    int copies,
    int dataNodes,
    String group,
    List<String> replicas,
    String victim,
    String trigger,
    String load,
    long loadMillis,
    long writes,
    long loadRetries,
    long expectedDiverged,
    long divergedBefore,
    long missingBytes,
    boolean treesDifferedBefore,
    long treeBuildMillisBefore,
    long checkMillisBefore,
    double wallMillis,
    int calls,
    int rounds,
    int hops,
    int failedHops,
    long bytesSent,
    long bytesReceived,
    long recordBytes,
    long leavesCompared,
    long repairedToServer,
    long repairedToClient,
    Map<String, Double> cpuSeconds,
    Map<String, Double> cpuSecondsWithRebuild,
    Map<String, Long> peakRssBytes,
    Map<String, Long> rssBeforeBytes,
    Map<String, Long> rssAnonBeforeBytes,
    Map<String, Long> rssFileBeforeBytes,
    String rssScope,
    boolean treesEqualAfter,
    long differingAfter,
    long verifyMillis,
    List<String> outcomes,
    List<Hop> hopList,
    List<RepairTrigger.SpanLine> trace,
    List<Double> repeatWallMillis,
    boolean converged,
    String error) {

  /** One hop (two-node session) as the progress stream reported it. */
  record Hop(String client, String server, boolean success, String error, boolean rootMatch,
      int slotsDiffering, long leavesCompared, long repairedToServer, long repairedToClient,
      long bytesSent, long bytesReceived, double durationMs, List<String> skipped) {}

  long repaired() {
    return repairedToServer + repairedToClient;
  }

  long repairBytes() {
    return bytesSent + bytesReceived;
  }

  double cpuSecondsTotal() {
    return cpuSeconds.values().stream().mapToDouble(d -> Math.max(0, d)).sum();
  }

  double cpuSecondsWithRebuildTotal() {
    return cpuSecondsWithRebuild.values().stream().mapToDouble(d -> Math.max(0, d)).sum();
  }

  /** Median of {@link #repeatWallMillis}; NaN when there are none. */
  double repeatMedianMillis() {
    if (repeatWallMillis.isEmpty()) {
      return Double.NaN;
    }
    List<Double> s = repeatWallMillis.stream().sorted().toList();
    return s.get(s.size() / 2);
  }

  /** CPU µs of all data nodes per repaired property; NaN when nothing was repaired. */
  double cpuMicrosPerRepaired() {
    return repaired() == 0 ? Double.NaN : cpuSecondsTotal() * 1e6 / repaired();
  }

  /**
   * Session bytes beyond the records: total minus the records' bytes as the sessions reported them,
   * or, from builds that do not report them, minus the missing bytes (the newest copy of each
   * differing key, which is what such a session moves).
   */
  long bytesBeyondRecords() {
    return repairBytes() - (recordBytes > 0 ? recordBytes : Math.max(0, missingBytes));
  }

  /** Where {@link #bytesBeyondRecords()} took the records' bytes from. */
  String recordBytesSource() {
    return recordBytes > 0 ? "reported" : "missing bytes";
  }

  /** Repair traffic per byte of missing data; NaN when nothing was missing. */
  double bytesPerMissingByte() {
    return missingBytes == 0 ? Double.NaN : (double) repairBytes() / missingBytes;
  }
}
