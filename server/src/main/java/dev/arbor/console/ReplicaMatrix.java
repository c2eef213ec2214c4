package dev.arbor.console;

import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.console.v1.ShardTreeStatus;
import dev.arbor.api.console.v1.TreeStatusResponse;
import dev.arbor.cluster.Placement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The shards × replicas matrix of one group: each replica's current tree root (as the node serves
 * it now; nothing is built to draw it) and whether the replicas of a shard agree. Two replicas
 * agree when their roots are equal, or when neither holds anything of the shard.
 *
 * <p>Cell states: {@code agree}; {@code disagree} (its root differs from the shard's most common
 * one, or there is no most common one); {@code missing} (holds nothing of a shard another replica
 * holds data of); {@code unknown} (the node did not answer, or has no tree of the shard yet). A
 * shard is {@code agree} when every cell is, {@code disagree} when any two known cells differ,
 * {@code unknown} otherwise.
 */
final class ReplicaMatrix {
  private static final String EMPTY = "empty";

  private ReplicaMatrix() {}

  static Map<String, Object> build(ConsoleSources sources, Group group, long nowMs) {
    String name = group.getMetadata().getName();
    int shards = group.getResourceOpts().getShardNum();
    int copies = Placement.copies(group.getResourceOpts().getReplicas());
    List<List<String>> rings = new ArrayList<>();
    Set<String> involved = new LinkedHashSet<>();
    for (int s = 0; s < shards; s++) {
      List<String> ring = sources.replicas().replicas(name, s, copies);
      rings.add(ring);
      involved.addAll(ring);
    }
    Map<String, CompletableFuture<TreeStatusResponse>> asked = new LinkedHashMap<>();
    for (String node : involved) {
      asked.put(node, sources.access().treeStatus(node, name));
    }
    Map<String, TreeStatusResponse> answers = new HashMap<>();
    Map<String, String> failures = new HashMap<>();
    long deadline = System.nanoTime() + sources.callTimeout().toNanos();
    asked.forEach((node, f) -> {
      try {
        answers.put(node, f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
      } catch (TimeoutException e) {
        failures.put(node, "did not answer within " + sources.callTimeout().toMillis() + " ms");
      } catch (ExecutionException e) {
        failures.put(node, String.valueOf(e.getCause().getMessage()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        failures.put(node, "interrupted");
      }
    });
    long grace = answers.values().stream().mapToLong(TreeStatusResponse::getTombstoneGraceMs).max().orElse(0);
    List<Map<String, Object>> rows = new ArrayList<>();
    for (int s = 0; s < shards; s++) {
      rows.add(shardRow(s, rings.get(s), copies, answers, failures, grace, nowMs));
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("group", name);
    out.put("shardNum", shards);
    out.put("copies", copies);
    out.put("nodes", List.copyOf(involved));
    out.put("tombstoneGraceMs", grace == 0 ? null : grace);
    out.put("tombstoneGrace", grace == 0 ? null : Duration.ofMillis(grace).toString());
    out.put("generatedAtMs", nowMs);
    out.put("unreachable", failures);
    out.put("shards", rows);
    return out;
  }

  private static Map<String, Object> shardRow(int shard, List<String> ring, int copies,
      Map<String, TreeStatusResponse> answers, Map<String, String> failures, long grace, long nowMs) {
    List<Map<String, Object>> cells = new ArrayList<>();
    Map<String, String> keys = new LinkedHashMap<>(); // node -> comparable root, for known cells
    long lastRepair = 0;
    String lastRound = "";
    for (String node : ring) {
      Map<String, Object> cell = new LinkedHashMap<>();
      cell.put("node", node);
      TreeStatusResponse r = answers.get(node);
      ShardTreeStatus st = r == null ? null
          : r.getShardsList().stream().filter(x -> x.getShard() == shard).findFirst().orElse(null);
      if (r == null || st == null) {
        cell.put("state", "unknown");
        cell.put("detail", r == null ? "unreachable: " + failures.getOrDefault(node, "no answer") : "no such shard");
        cells.add(cell);
        continue;
      }
      if (st.getLastRepairUnixMs() > lastRepair) {
        lastRepair = st.getLastRepairUnixMs();
        lastRound = st.getLastRepairRoundId();
      }
      cell.put("present", st.getPresent());
      if (st.getHasTree()) {
        cell.put("root", st.getRoot());
        cell.put("rootShort", st.getRoot().substring(0, Math.min(12, st.getRoot().length())));
        cell.put("leafCount", st.getLeafCount());
        cell.put("live", st.getLive());
        cell.put("asOfMs", st.getAsOfUnixMs());
        cell.put("ageMs", Math.max(0, nowMs - st.getAsOfUnixMs()));
        keys.put(node, st.getLeafCount() == 0 ? EMPTY : st.getRoot());
      } else if (!st.getPresent()) {
        cell.put("leafCount", 0);
        cell.put("detail", "holds nothing of this shard");
        keys.put(node, EMPTY);
      } else if (ring.size() == 1) {
        // One copy has nothing to disagree with: its root is not needed to say so.
        cell.put("state", "agree");
        cell.put("detail", "no tree built yet (a single copy agrees with itself)");
      } else {
        cell.put("state", "unknown");
        cell.put("detail", "no tree built yet");
      }
      cells.add(cell);
    }
    Map<String, Integer> counts = new HashMap<>();
    keys.values().forEach(k -> counts.merge(k, 1, Integer::sum));
    String majority = null;
    int best = 0;
    boolean tie = false;
    for (Map.Entry<String, Integer> e : counts.entrySet()) {
      if (e.getValue() > best) {
        best = e.getValue();
        majority = e.getKey();
        tie = false;
      } else if (e.getValue() == best) {
        tie = true;
      }
    }
    boolean differ = counts.size() > 1;
    boolean anyData = counts.keySet().stream().anyMatch(k -> !EMPTY.equals(k));
    for (Map<String, Object> cell : cells) {
      if (cell.containsKey("state")) {
        continue;
      }
      String key = keys.get((String) cell.get("node"));
      if (!differ) {
        cell.put("state", "agree");
      } else if (EMPTY.equals(key) && anyData) {
        cell.put("state", "missing");
      } else {
        cell.put("state", !tie && key.equals(majority) ? "agree" : "disagree");
      }
    }
    boolean unknown = cells.stream().anyMatch(c -> "unknown".equals(c.get("state")));
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("shard", shard);
    row.put("agreement", differ ? "disagree" : unknown || ring.isEmpty() ? "unknown" : "agree");
    row.put("copies", copies);
    row.put("placed", ring.size());
    row.put("replicas", cells);
    if (lastRepair > 0) {
      Map<String, Object> lr = new LinkedHashMap<>();
      lr.put("atMs", lastRepair);
      lr.put("ageMs", Math.max(0, nowMs - lastRepair));
      lr.put("roundId", lastRound);
      lr.put("withinGrace", grace == 0 ? null : nowMs - lastRepair <= grace);
      row.put("lastRepair", lr);
    } else {
      row.put("lastRepair", null);
    }
    return row;
  }
}
