package dev.arbor.liaison;

import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.cluster.DataNodeCalls;
import io.grpc.Deadline;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Sends several callers' keys to a data node as one Read (a key asked by several callers once)
 * and hands each caller the copies of its own keys, as the node answered them. A key some caller
 * asks version-only and another whole is asked whole.
 */
final class ReadBatchSender implements BatchLane.Sender<List<Key>, List<StoredProperty>> {
  @Override
  public CompletableFuture<List<List<StoredProperty>>> send(DataNodeCalls client, List<List<Key>> shares,
      Deadline deadline) {
    // Each key once; with its bytes when any caller needs them (a version-only caller can read a
    // whole copy, never the reverse).
    Map<String, Key> keys = new LinkedHashMap<>();
    for (List<Key> share : shares) {
      for (Key k : share) {
        keys.merge(id(k.getGroup(), k.getEntity()), k, (had, added) -> had.getVersionOnly() ? added : had);
      }
    }
    return client.read(keys.values(), deadline).thenApply(copies -> split(shares, copies));
  }

  private static List<List<StoredProperty>> split(List<List<Key>> shares, List<StoredProperty> copies) {
    Map<String, List<StoredProperty>> byKey = new HashMap<>();
    for (StoredProperty p : copies) {
      byKey.computeIfAbsent(id(p.getGroup(), p.getEntity()), k -> new ArrayList<>(1)).add(p);
    }
    List<List<StoredProperty>> out = new ArrayList<>(shares.size());
    for (List<Key> share : shares) {
      List<StoredProperty> mine = new ArrayList<>(share.size());
      // Each key's copy once, whichever callers also asked for it.
      Set<String> seen = new HashSet<>();
      for (Key k : share) {
        String id = id(k.getGroup(), k.getEntity());
        if (seen.add(id)) {
          mine.addAll(byKey.getOrDefault(id, List.of()));
        }
      }
      out.add(mine);
    }
    return out;
  }

  /** The entity names its group too; the group field is kept apart in case a node answers another. */
  private static String id(String group, String entity) {
    return group + '\u0000' + entity;
  }

  @Override
  public int records(List<Key> share) {
    return share.size();
  }

  @Override
  public long bytes(List<Key> share) {
    long n = 0;
    for (Key k : share) {
      n += k.getSerializedSize();
    }
    return n;
  }
}
