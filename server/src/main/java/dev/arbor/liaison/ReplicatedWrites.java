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
import dev.arbor.cluster.WriteReply;
import dev.arbor.errors.AbortedException;
import dev.arbor.errors.UnavailableException;
import dev.arbor.metadata.SchemaLookup;
import dev.arbor.property.Defect;
import dev.arbor.property.DefectSwitches;
import dev.arbor.property.EntityKey;
import dev.arbor.property.HybridClock;
import dev.arbor.property.LastWriteWins;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Apply and Delete on a cluster (docs/cluster-design.md): the liaison reads the key from its
 * replicas, takes the last-write-wins winner as the previous version, computes the next one
 * (versions from its hybrid clock, above the previous; a delete too), and writes every replica
 * in parallel. A replica acknowledges when it holds the record afterwards; one that kept a newer
 * version makes the liaison re-read and write again above it (a few times, then ABORTED). The
 * call succeeds when the write consistency is met; otherwise UNAVAILABLE names the replicas
 * that did not acknowledge. Replicas that missed a write are healed by read repair and by the
 * background repair. One liaison serializes read-modify-write per key, so it never loses a
 * concurrent merge.
 */
final class ReplicatedWrites {
  private static final int DELETE_PAGE = 1000;
  /** Writes tried per key before a replica that keeps holding newer versions fails the call. */
  private static final int MAX_ATTEMPTS = 3;

  private final SchemaLookup lookup;
  private final PropertyRequestValidator validator;
  private final ReplicaCalls calls;
  private final HybridClock clock;
  private final int maxPropertyBytes;
  private final Supplier<WriteConsistency> consistency;
  private final KeyLocks locks = new KeyLocks();
  /** Test-only defects switched back on ({@link DefectSwitches#NONE} in production). */
  private final DefectSwitches defects;

  ReplicatedWrites(
      SchemaLookup lookup, PropertyRequestValidator validator, ReplicaCalls calls, HybridClock clock,
      int maxPropertyBytes, Supplier<WriteConsistency> consistency) {
    this(lookup, validator, calls, clock, maxPropertyBytes, consistency, DefectSwitches.NONE);
  }

  /** As above, with {@link Defect#TOMBSTONE_KEEPS_OLD_REVISION} / {@link Defect#ACK_IGNORES_STORED} possible. */
  ReplicatedWrites(
      SchemaLookup lookup, PropertyRequestValidator validator, ReplicaCalls calls, HybridClock clock,
      int maxPropertyBytes, Supplier<WriteConsistency> consistency, DefectSwitches defects) {
    this.defects = defects;
    this.lookup = lookup;
    this.validator = validator;
    this.calls = calls;
    this.clock = clock;
    this.maxPropertyBytes = maxPropertyBytes;
    this.consistency = consistency;
  }

  ApplyResponse apply(ApplyRequest req) {
    ApplyPlan plan = PropertyApplier.plan(req, lookup, validator);
    Group g = lookup.propertyGroup(plan.key().group(), "property.metadata.group");
    List<DataNode> replicas = replicas(g, plan.shard());
    // Held across the pre-read and the write of each attempt (two round trips, each batched with
    // other keys' calls). The next version is computed from the one the pre-read found, so a
    // second apply of this key on this liaison must not read until the first one's write has
    // landed: both would read v1, and when the lower revision landed first the higher one would
    // silently drop its tags (a merge lost, with both acknowledged). Another liaison's concurrent
    // write is caught by the replicas instead (NOT_STORED_NEWER, re-read and retry); a liaison's
    // own in-flight write cannot be, since the later write beats it. Releasing after the pre-read
    // would need the replicas to refuse a write whose base is stale (a conditional write), which
    // replicas that may differ cannot decide. Only callers of the same key wait.
    KeyLocks.Held l = locks.lock(plan.key());
    try {
      for (int attempt = 1; ; attempt++) {
        // Each attempt merges onto the winner it reads, so a retry keeps the newer version's tags.
        // A replace keeps none of the previous tags: only the version is read (created and
        // create_revision come from it), not the bytes.
        PropertyRecord prev = readWinner(replicas, plan.key(), plan.shard(), plan.replace());
        ApplyPlan.Outcome out = plan.next(prev, clock, maxPropertyBytes);
        if (writeAll(replicas, plan.key(), plan.shard(), out.record(), "apply of " + plan.key(), attempt, true)) {
          return out.response();
        }
      }
    } finally {
      l.close();
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
            (c, d) -> c.queryShards(page, java.util.Map.of(group, List.of(s)), d))) {
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
    // As for apply: the tombstone is stamped above the version the pre-read found.
    KeyLocks.Held l = locks.lock(key);
    try {
      for (int attempt = 1; ; attempt++) {
        // A tombstone keeps the deleted version's bytes: read them.
        Read read = read(replicas, key, shard, false);
        PropertyRecord prev = read.winner();
        if (prev == null && read.everyReplica()) {
          return false;
        }
        boolean live = prev != null && !prev.deleted();
        // A delete is a new write from this clock, so it also beats a version this liaison had
        // acknowledged on a replica the read could not reach; keeping prev's revision lost to it.
        // For the same reason a read that missed a replica and found nothing live (nothing at
        // all, or a tombstone) still writes a fresh tombstone: the replica it missed may hold an
        // acknowledged write, which repair would bring back after this delete was acknowledged
        // (found by the deterministic simulation, seed 147).
        boolean fresh = live || !read.everyReplica();
        long rev = fresh ? clock.next(prev == null ? 0L : prev.modRevision()) : 0L;
        PropertyRecord next = !fresh ? prev
            : live && defects.has(Defect.TOMBSTONE_KEEPS_OLD_REVISION) ? prev.tombstone(clock.next()) // the old defect
            : prev != null ? prev.tombstoneAt(rev, rev)
            // (the tombstone must be above the version it deletes: a never-stored one just below it)
            : PropertyRecord.live(key, rev - 1, rev - 1, sourceOf(key, rev - 1)).tombstoneAt(rev, rev);
        // A new tombstone is fresh; re-writing one a replica already holds is a copy.
        if (writeAll(replicas, key, shard, next, "delete of " + key, attempt, fresh)) {
          return live;
        }
      }
    } finally {
      l.close();
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

  /**
   * The LWW winner among the replicas' copies (null when none holds the key). With
   * {@code versionOnly} the replicas send no bytes, and the winner is only a version to compare
   * and stamp above: its source is empty (or whatever an older node sent) and must not be used.
   */
  private PropertyRecord readWinner(List<DataNode> replicas, EntityKey key, int shard, boolean versionOnly) {
    return read(replicas, key, shard, versionOnly).winner();
  }

  /** The winner of a pre-read, and whether every replica answered it. */
  private record Read(PropertyRecord winner, boolean everyReplica) {}

  /** The bytes of a tombstone for a key no replica that answered holds: the key, nothing else. */
  private static byte[] sourceOf(EntityKey key, long revision) {
    return dev.arbor.api.banyandb.property.v1.Property.newBuilder()
        .setMetadata(dev.arbor.api.banyandb.common.v1.Metadata.newBuilder().setGroup(key.group())
            .setName(key.name()).setModRevision(revision).setCreateRevision(revision))
        .setId(key.id()).build().toByteArray();
  }

  private Read read(List<DataNode> replicas, EntityKey key, int shard, boolean versionOnly) {
    Key k = Key.newBuilder().setGroup(key.group()).setShard(shard).setEntity(key.entity())
        .setVersionOnly(versionOnly).build();
    List<ReplicaCalls.Answer<List<StoredProperty>>> answers = calls.read(replicas, List.of(k));
    PropertyRecord winner = null;
    boolean any = false;
    boolean every = true;
    var incarnation = lookup.incarnation(key.group());
    for (ReplicaCalls.Answer<List<StoredProperty>> a : answers) {
      if (!a.ok()) {
        every = false;
        continue;
      }
      any = true;
      for (StoredProperty p : a.value()) {
        if (!StoredProperties.sameIncarnation(p, incarnation)) {
          continue; // a deleted namesake's copy: never a version of this group's key
        }
        PropertyRecord r = versionOnly ? StoredProperties.versionOf(p, "read")
            : StoredProperties.fromProto(p, "read").record();
        if (LastWriteWins.beats(r, winner)) {
          winner = r;
        }
      }
    }
    if (!any) {
      throw new UnavailableException(
          "no replica of " + key + " answered: " + ReplicaCalls.describeFailures(answers));
    }
    return new Read(winner, every);
  }

  /**
   * Writes one record to every replica. A replica acknowledges only when it holds the record
   * afterwards (stored, or already had exactly it). Returns false when a replica kept a newer
   * version, so the caller re-reads and tries again above it: acknowledging would let that
   * version undo this write once repair runs.
   *
   * @throws AbortedException when replicas still hold newer versions after the last attempt
   * @throws UnavailableException when too few replicas acknowledged for the write consistency
   */
  private boolean writeAll(
      List<DataNode> replicas, EntityKey key, int shard, PropertyRecord record, String what, int attempt, boolean fresh) {
    // The group's incarnation lets a replica that still holds a deleted namesake's data refuse it.
    List<StoredProperty> props =
        List.of(StoredProperties.toProto(key.group(), shard, record, lookup.incarnation(key.group())));
    List<ReplicaCalls.Answer<WriteReply>> answers = calls.write(replicas, props, fresh);
    List<String> newer = new ArrayList<>();
    List<String> rejected = new ArrayList<>();
    int acks = 0;
    for (ReplicaCalls.Answer<WriteReply> a : answers) {
      if (!a.ok()) {
        continue;
      }
      String node = a.node().id() + " (" + a.node().grpcAddress() + ")";
      if (a.value().holdsAll() || defects.has(Defect.ACK_IGNORES_STORED)) {
        // (With the test-only defect switched on, any answer is an ack, whatever was stored.)
        acks++;
      } else if (a.value().heldNewer()) {
        newer.add(node);
      } else {
        rejected.add(node + ": " + a.value().rejection());
      }
    }
    if (!newer.isEmpty()) {
      if (attempt < MAX_ATTEMPTS) {
        return false;
      }
      throw new AbortedException(
          what + " gave up after " + attempt + " attempts: replica(s) " + String.join(", ", newer)
              + " kept a newer version than the one written (revision " + record.modRevision()
              + ") — a concurrent writer, or a liaison whose clock runs ahead of this one; retry the request");
    }
    WriteConsistency level = consistency.get();
    if (!level.isMet(acks, replicas.size())) {
      String failed = ReplicaCalls.describeFailures(answers);
      throw new UnavailableException(
          what + " reached " + acks + " of " + replicas.size() + " replicas; consistency " + level.text()
              + " needs " + level.required(replicas.size())
              + (failed.isEmpty() ? "" : "; failed: " + failed)
              + (rejected.isEmpty() ? "" : "; rejected by " + String.join(", ", rejected)));
    }
    return true;
  }
}
