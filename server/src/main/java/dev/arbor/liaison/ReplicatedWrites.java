package dev.arbor.liaison;

import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.property.v1.ApplyRequest;
import dev.arbor.api.banyandb.property.v1.ApplyResponse;
import dev.arbor.api.banyandb.property.v1.DeleteRequest;
import dev.arbor.api.banyandb.property.v1.DeleteResponse;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.cluster.WriteConsistency;
import dev.arbor.errors.UnavailableException;
import dev.arbor.metadata.SchemaLookup;
import dev.arbor.property.EntityKey;
import dev.arbor.property.HybridClock;
import dev.arbor.property.LastWriteWins;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * Apply and Delete on a cluster (docs/cluster-design.md): the liaison reads the key from its
 * replicas, takes the last-write-wins winner as the previous version, computes the next one
 * (versions from its hybrid clock, above the previous), and writes every replica in parallel.
 * The call succeeds when the write consistency is met; otherwise UNAVAILABLE names the replicas
 * that did not acknowledge. Replicas that missed a write are healed by read repair and by the
 * background repair. One liaison serializes read-modify-write per key, so it never loses a
 * concurrent merge.
 */
final class ReplicatedWrites {
  private static final int LOCK_STRIPES = 1024;
  private static final int DELETE_PAGE = 1000;

  private final SchemaLookup lookup;
  private final PropertyRequestValidator validator;
  private final ReplicaCalls calls;
  private final HybridClock clock;
  private final int maxPropertyBytes;
  private final Supplier<WriteConsistency> consistency;
  private final ReentrantLock[] locks = new ReentrantLock[LOCK_STRIPES];

  ReplicatedWrites(
      SchemaLookup lookup, PropertyRequestValidator validator, ReplicaCalls calls, HybridClock clock,
      int maxPropertyBytes, Supplier<WriteConsistency> consistency) {
    this.lookup = lookup;
    this.validator = validator;
    this.calls = calls;
    this.clock = clock;
    this.maxPropertyBytes = maxPropertyBytes;
    this.consistency = consistency;
    for (int i = 0; i < LOCK_STRIPES; i++) {
      locks[i] = new ReentrantLock();
    }
  }

  ApplyResponse apply(ApplyRequest req) {
    ApplyPlan plan = PropertyApplier.plan(req, lookup, validator);
    Group g = lookup.propertyGroup(plan.key().group(), "property.metadata.group");
    List<DataNode> replicas = replicas(g, plan.shard());
    ReentrantLock l = lockFor(plan.key());
    l.lock();
    try {
      PropertyRecord prev = readWinner(replicas, plan.key(), plan.shard());
      ApplyPlan.Outcome out = plan.next(prev, clock, maxPropertyBytes);
      writeAll(replicas, List.of(StoredProperties.toProto(plan.key().group(), plan.shard(), out.record())),
          "apply of " + plan.key());
      return out.response();
    } finally {
      l.unlock();
    }
  }

  DeleteResponse delete(DeleteRequest req) {
    PropertyDeleter.checkRequest(req);
    Group g = lookup.propertyGroup(req.getGroup(), "group");
    if (!req.getId().isEmpty()) {
      EntityKey key = new EntityKey(req.getGroup(), req.getName(), req.getId());
      return DeleteResponse.newBuilder().setDeleted(deleteKey(g, key)).build();
    }
    return DeleteResponse.newBuilder().setDeleted(deleteAllOfName(g, req.getName()) > 0).build();
  }

  /** Tombstones every live property of a name, page by page, on every replica; returns how many. */
  int deleteAllOfName(Group g, String name) {
    String group = g.getMetadata().getName();
    int shardNum = g.getResourceOpts().getShardNum();
    QueryRequest page = QueryRequest.newBuilder().addGroups(group).setName(name).setLimit(DELETE_PAGE).build();
    int total = 0;
    while (true) {
      List<StoredProperty> found = new ArrayList<>();
      for (int shard = 0; shard < shardNum; shard++) {
        final int s = shard;
        for (ReplicaCalls.Answer<List<StoredProperty>> a : calls.onEach(replicas(g, shard),
            c -> c.queryShards(page, java.util.Map.of(group, List.of(s))))) {
          if (a.ok()) {
            found.addAll(a.value());
          }
        }
      }
      if (found.isEmpty()) {
        return total;
      }
      int before = total;
      for (String entity : found.stream().map(StoredProperty::getEntity).distinct().toList()) {
        if (deleteKey(g, EntityKey.parse(entity))) {
          total++;
        }
      }
      if (total == before) {
        // Everything found was already deleted on some replica: the tombstones were pushed to the
        // lagging ones by deleteKey; stop rather than loop on replicas that cannot be written.
        return total;
      }
    }
  }

  private boolean deleteKey(Group g, EntityKey key) {
    int shard = ShardRouter.shardOf(key, g.getResourceOpts().getShardNum());
    List<DataNode> replicas = replicas(g, shard);
    ReentrantLock l = lockFor(key);
    l.lock();
    try {
      PropertyRecord prev = readWinner(replicas, key, shard);
      if (prev == null) {
        return false;
      }
      boolean live = !prev.deleted();
      PropertyRecord next = live ? prev.tombstone(clock.next()) : prev;
      writeAll(replicas, List.of(StoredProperties.toProto(key.group(), shard, next)), "delete of " + key);
      return live;
    } finally {
      l.unlock();
    }
  }

  private List<DataNode> replicas(Group g, int shard) {
    int copies = g.getResourceOpts().getReplicas() + 1;
    List<DataNode> replicas = calls.nodes().replicas(g.getMetadata().getName(), shard, copies);
    if (replicas.isEmpty()) {
      throw new UnavailableException("no data node is registered");
    }
    return replicas;
  }

  /** The LWW winner among the replicas' copies (null when none holds the key). */
  private PropertyRecord readWinner(List<DataNode> replicas, EntityKey key, int shard) {
    Key k = Key.newBuilder().setGroup(key.group()).setShard(shard).setEntity(key.entity()).build();
    List<ReplicaCalls.Answer<List<StoredProperty>>> answers = calls.onEach(replicas, c -> c.read(List.of(k)));
    PropertyRecord winner = null;
    boolean any = false;
    for (ReplicaCalls.Answer<List<StoredProperty>> a : answers) {
      if (!a.ok()) {
        continue;
      }
      any = true;
      for (StoredProperty p : a.value()) {
        PropertyRecord r = StoredProperties.fromProto(p, "read").record();
        if (LastWriteWins.beats(r, winner)) {
          winner = r;
        }
      }
    }
    if (!any) {
      throw new UnavailableException(
          "no replica of " + key + " answered: " + ReplicaCalls.describeFailures(answers));
    }
    return winner;
  }

  private void writeAll(List<DataNode> replicas, List<StoredProperty> props, String what) {
    List<ReplicaCalls.Answer<Integer>> answers = calls.onEach(replicas, c -> c.write(props));
    int acks = (int) answers.stream().filter(ReplicaCalls.Answer::ok).count();
    WriteConsistency level = consistency.get();
    if (!level.isMet(acks, replicas.size())) {
      throw new UnavailableException(
          what + " reached " + acks + " of " + replicas.size() + " replicas; consistency " + level.text()
              + " needs " + level.required(replicas.size()) + "; unreachable: "
              + ReplicaCalls.describeFailures(answers));
    }
  }

  private ReentrantLock lockFor(EntityKey key) {
    return locks[Math.floorMod(key.entity().hashCode(), LOCK_STRIPES)];
  }
}
