package dev.arbor.repair.sync;

import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.property.Defect;
import dev.arbor.property.DefectSwitches;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import dev.arbor.storage.ShardWrite;

/**
 * Checks records received in a session: they must parse, hash correctly, carry the session's group
 * and shard, and their entity must route to that shard under the group's shard count (a record
 * stored in the wrong shard would be invisible to reads and poison that shard's tree).
 */
final class RecordCodec {
  private RecordCodec() {}

  static StoredProperty toProto(String group, int shard, PropertyRecord r) {
    return StoredProperties.toProto(group, shard, r);
  }

  /**
   * The write the record asks for.
   *
   * @throws RejectedRecordException saying why when the record is unusable
   */
  static ShardWrite check(StoredProperty p, String group, int shard, int shardNum,
      dev.arbor.property.RevisionBound bound) {
    return check(p, group, shard, shardNum, bound, DefectSwitches.NONE);
  }

  /** As above; with the test-only {@link Defect#NO_ROUTING_CHECK} on, routing is not checked. */
  static ShardWrite check(StoredProperty p, String group, int shard, int shardNum,
      dev.arbor.property.RevisionBound bound, DefectSwitches defects) {
    if (!p.getGroup().equals(group) || p.getShard() != shard) {
      throw new RejectedRecordException(p.getEntity() + " is labelled " + p.getGroup() + "/" + p.getShard()
          + ", not the session's " + group + "/" + shard);
    }
    ShardWrite w;
    try {
      w = StoredProperties.fromProto(p, "record");
    } catch (InvalidArgumentException e) {
      throw new RejectedRecordException(p.getEntity() + ": " + e.getMessage());
    }
    bound.problem(w.record()).ifPresent(why -> {
      throw new RejectedRecordException(p.getEntity() + ": " + why);
    });
    int routed = ShardRouter.shardOf(w.record().key(), shardNum);
    if (routed != shard && !defects.has(Defect.NO_ROUTING_CHECK)) {
      throw new RejectedRecordException(p.getEntity() + " routes to shard " + routed + " of " + shardNum
          + ", not " + shard);
    }
    return w;
  }

  /** A received record failed its checks; the message says which and why. */
  static final class RejectedRecordException extends RuntimeException {
    RejectedRecordException(String message) {
      super(message, null, false, false);
    }
  }
}
