package dev.arbor.console;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.cluster.Placement;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.property.EntityKey;
import dev.arbor.property.LastWriteWins;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A property's copy on each replica of its shard, which one wins and why. The winner is the
 * maximum of {@link LastWriteWins#ORDER} — the order storage, reads and repair use — and the
 * reason is {@link LastWriteWins#why}, so the page explains the rule that decides, not a copy of it.
 */
final class PropertyVersions {
  private static final JsonFormat.Printer PRINTER = JsonFormat.printer().omittingInsignificantWhitespace();

  private PropertyVersions() {}

  static Map<String, Object> versions(ConsoleSources sources, Group group, String name, String id) {
    String g = group.getMetadata().getName();
    EntityKey key = new EntityKey(g, name, id);
    int shard = ShardRouter.shardOf(key, group.getResourceOpts().getShardNum());
    List<String> ring = sources.replicas().replicas(g, shard,
        Placement.copies(group.getResourceOpts().getReplicas()));
    Key k = Key.newBuilder().setGroup(g).setShard(shard).setEntity(key.entity()).build();
    Map<String, CompletableFuture<List<StoredProperty>>> asked = new LinkedHashMap<>();
    for (String node : ring) {
      asked.put(node, sources.access().read(node, k));
    }
    long deadline = System.nanoTime() + sources.callTimeout().toNanos();
    Map<String, PropertyRecord> copies = new LinkedHashMap<>();
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Map.Entry<String, CompletableFuture<List<StoredProperty>>> e : asked.entrySet()) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("node", e.getKey());
      try {
        List<StoredProperty> got = e.getValue().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (got.isEmpty()) {
          row.put("state", "absent");
        } else {
          PropertyRecord r = StoredProperties.versionOf(got.get(0), "copy");
          copies.put(e.getKey(), r);
          row.put("state", r.deleted() ? "tombstone" : "live");
          row.put("modRevision", r.modRevision());
          row.put("createRevision", r.createRevision());
          row.put("deleteTime", r.deleteTime());
          row.put("sha", HexFormat.of().formatHex(r.sha(), 0, Math.min(8, r.sha().length)));
          row.put("property", r.deleted() ? null : describe(r.source()));
        }
      } catch (TimeoutException ex) {
        row.put("state", "unreachable");
        row.put("detail", "did not answer within " + sources.callTimeout().toMillis() + " ms");
      } catch (ExecutionException ex) {
        row.put("state", "unreachable");
        row.put("detail", String.valueOf(ex.getCause().getMessage()));
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        row.put("state", "unreachable");
        row.put("detail", "interrupted");
      }
      rows.add(row);
    }
    String winner = copies.entrySet().stream().max(Map.Entry.comparingByValue(LastWriteWins.ORDER))
        .map(Map.Entry::getKey).orElse(null);
    List<String> reasons = new ArrayList<>();
    for (Map<String, Object> row : rows) {
      String node = (String) row.get("node");
      row.put("winner", node.equals(winner));
      if (winner == null || node.equals(winner)) {
        continue;
      }
      PropertyRecord mine = copies.get(node);
      String why = mine == null ? ("unreachable".equals(row.get("state")) ? "could not be read"
          : "holds no copy (a missing copy always loses)") : LastWriteWins.why(copies.get(winner), mine);
      row.put("reason", why);
      reasons.add(node + ": " + why);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("group", g);
    out.put("name", name);
    out.put("id", id);
    out.put("shard", shard);
    out.put("replicas", rows);
    out.put("winner", winner);
    String reason;
    if (winner == null) {
      reason = "no replica holds this property";
    } else if (reasons.stream().allMatch(r -> r.endsWith(": identical"))) {
      reason = "every replica that answered holds the same version (" + winner + "'s copy shown as the winner)";
    } else {
      reason = winner + "'s copy wins by last-write-wins over " + String.join("; ", reasons);
    }
    out.put("reason", reason);
    return out;
  }

  private static Object describe(byte[] source) {
    try {
      return PRINTER.print(Property.parseFrom(source));
    } catch (InvalidProtocolBufferException e) {
      return "(" + source.length + " bytes that do not parse as a property)";
    }
  }
}
