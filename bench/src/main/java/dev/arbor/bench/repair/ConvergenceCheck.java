package dev.arbor.bench.repair;

import dev.arbor.bench.cluster.ClusterProcesses;
import com.google.common.util.concurrent.ListenableFuture;
import dev.arbor.api.admin.v1.BuildTreesRequest;
import dev.arbor.api.admin.v1.BuildTreesResponse;
import dev.arbor.api.admin.v1.ShardBuildResult;
import dev.arbor.api.admin.v1.TreeAdminServiceGrpc;
import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.ReadRequest;
import dev.arbor.api.cluster.v1.ReadResponse;
import dev.arbor.api.cluster.v1.StoredProperty;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Whether the replicas of a (group, shard 0) hold the same data, two ways:
 *
 * <ul>
 *   <li>{@link #trees}: {@code TreeAdminService.BuildTrees} on every replica (a build commits the
 *       shard and hashes a fresh snapshot) — equal roots and leaf counts mean equal trees;
 *   <li>{@link #properties}: every key the benchmark ever wrote, read with
 *       {@code DataNodeService.Read} from every replica (tombstones included) and compared by
 *       entity, mod_revision, delete_time and sha.
 * </ul>
 */
final class ConvergenceCheck {
  /**
   * Keys per {@code DataNodeService.Read} of the per-key comparison: one batch per replica is
   * compared while the next one is read (every replica in parallel), so the check holds at most
   * two batches per replica (≈ 2 × 5,000 × 2.3 KB per replica at 2 KB properties) whatever the
   * number of keys.
   */
  static final int READ_BATCH = 5000;
  private static final long READ_DEADLINE_S = 300;

  /** One replica's tree after a build. */
  record Tree(String node, String outcome, String root, long leafCount, long snapshotId,
      double buildMs) {}

  record Trees(Map<String, Tree> byNode, long wallMs) {
    boolean equal() {
      Tree first = null;
      for (Tree t : byNode.values()) {
        if (first == null) {
          first = t;
        } else if (!Objects.equals(first.root(), t.root()) || first.leafCount() != t.leafCount()) {
          return false;
        }
      }
      return true;
    }

    String describe() {
      StringBuilder b = new StringBuilder();
      byNode.forEach((n, t) -> b.append(b.length() == 0 ? "" : ", ").append(n).append(": ")
          .append(t.root().isEmpty() ? "(none)" : t.root().substring(0, Math.min(12, t.root().length())))
          .append(" / ").append(t.leafCount()).append(" leaves, commit ").append(t.snapshotId())
          .append(" (").append(t.outcome()).append(')'));
      return b.toString();
    }
  }

  /**
   * Keys whose copies differ between the replicas; {@code bytes} sums the serialized size of the
   * newest copy of each (what a perfect repair would have to move once).
   */
  record Diff(long keys, long differing, long bytes, Map<String, Long> heldByNode,
      List<String> examples, long wallMs) {}

  private final ClusterProcesses cluster;

  ConvergenceCheck(ClusterProcesses cluster) {
    this.cluster = cluster;
  }

  Trees trees(List<String> replicas, String group) {
    long t0 = System.nanoTime();
    Map<String, Tree> out = new LinkedHashMap<>();
    for (String node : replicas) {
      ShardBuildResult s = build(node, group);
      out.put(node, new Tree(node, s.getOutcome(), s.getRoot(), s.getLeafCount(), s.getSnapshotId(),
          s.getDurationMs()));
    }
    return new Trees(out, (System.nanoTime() - t0) / 1_000_000);
  }

  /**
   * Builds (group, shard 0) on one node; a BUSY answer (a build of the shard is running, e.g. the
   * rebuild a repair session starts after storing data) is retried until it ends (bounded).
   */
  private ShardBuildResult build(String node, String group) {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
    while (true) {
      BuildTreesResponse r = TreeAdminServiceGrpc.newBlockingStub(cluster.adminChannel(node))
          .withDeadlineAfter(10, TimeUnit.MINUTES)
          .buildTrees(BuildTreesRequest.newBuilder().setGroup(group).setShard(0).build());
      ShardBuildResult s = r.getResultsList().stream().filter(x -> x.getShard() == 0).findFirst()
          .orElseThrow(() -> new IllegalStateException(node + " built no tree for " + group + "/0"));
      if (!s.getOutcome().equals("BUSY") || System.nanoTime() > deadline) {
        return s;
      }
      try {
        TimeUnit.MILLISECONDS.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return s;
      }
    }
  }

  /**
   * Compares the copies of entities {@code group/item/id(i)} for i in [0, keyCount), streamed in
   * batches of {@link #READ_BATCH} keys (bounded memory and one round trip per replica per batch;
   * the next batch is already being read while one is compared).
   */
  Diff properties(List<String> replicas, String group, int keyCount) {
    long t0 = System.nanoTime();
    long differing = 0;
    long bytes = 0;
    Map<String, Long> held = new LinkedHashMap<>();
    replicas.forEach(n -> held.put(n, 0L));
    List<String> examples = new ArrayList<>();
    List<ListenableFuture<ReadResponse>> next = readBatch(replicas, group, 0, keyCount);
    for (int from = 0; from < keyCount; from += READ_BATCH) {
      int to = Math.min(keyCount, from + READ_BATCH);
      List<ListenableFuture<ReadResponse>> current = next;
      next = to < keyCount ? readBatch(replicas, group, to, keyCount) : List.of();
      List<Map<String, StoredProperty>> copies = new ArrayList<>();
      for (int k = 0; k < replicas.size(); k++) {
        ReadResponse r = get(current.get(k), replicas.get(k));
        Map<String, StoredProperty> m = new HashMap<>(r.getPropertiesCount() * 2);
        for (StoredProperty p : r.getPropertiesList()) {
          m.put(p.getEntity(), p);
        }
        held.merge(replicas.get(k), (long) m.size(), Long::sum);
        copies.add(m);
      }
      for (int i = from; i < to; i++) {
        String e = DataLoader.entity(group, i);
        StoredProperty first = copies.get(0).get(e);
        boolean same = true;
        StoredProperty newest = first;
        for (int k = 1; k < copies.size(); k++) {
          StoredProperty p = copies.get(k).get(e);
          if (!sameVersion(first, p)) {
            same = false;
          }
          if (p != null && (newest == null || p.getModRevision() > newest.getModRevision())) {
            newest = p;
          }
        }
        if (!same) {
          differing++;
          bytes += newest == null ? 0 : newest.getSerializedSize();
          if (examples.size() < 3) {
            StringBuilder b = new StringBuilder(DataLoader.id(i)).append(':');
            for (int k = 0; k < copies.size(); k++) {
              b.append(' ').append(replicas.get(k)).append('=').append(describe(copies.get(k).get(e)));
            }
            examples.add(b.toString());
          }
        }
      }
    }
    return new Diff(keyCount, differing, bytes, held, examples, (System.nanoTime() - t0) / 1_000_000);
  }

  /** Starts reading keys [from, min(keyCount, from + READ_BATCH)) from every replica. */
  private List<ListenableFuture<ReadResponse>> readBatch(List<String> replicas, String group,
      int from, int keyCount) {
    int to = Math.min(keyCount, from + READ_BATCH);
    ReadRequest.Builder req = ReadRequest.newBuilder();
    for (int i = from; i < to; i++) {
      req.addKeys(Key.newBuilder().setGroup(group).setShard(0).setEntity(DataLoader.entity(group, i)));
    }
    ReadRequest request = req.build();
    List<ListenableFuture<ReadResponse>> out = new ArrayList<>();
    for (String node : replicas) {
      out.add(DataNodeServiceGrpc.newFutureStub(cluster.channel(node))
          .withDeadlineAfter(READ_DEADLINE_S, TimeUnit.SECONDS).read(request));
    }
    return out;
  }

  private static ReadResponse get(ListenableFuture<ReadResponse> f, String node) {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted reading " + node, e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      throw c instanceof RuntimeException r ? r
          : new IllegalStateException("Read on " + node + " failed: " + c, c);
    }
  }

  private static boolean sameVersion(StoredProperty a, StoredProperty b) {
    if (a == null || b == null) {
      return a == b;
    }
    return a.getEntity().equals(b.getEntity()) && a.getModRevision() == b.getModRevision()
        && a.getDeleteTime() == b.getDeleteTime() && a.getSha().equals(b.getSha());
  }

  private static String describe(StoredProperty p) {
    if (p == null) {
      return "absent";
    }
    return "rev " + p.getModRevision() + (p.getDeleteTime() != 0 ? " deleted" : " live");
  }
}
