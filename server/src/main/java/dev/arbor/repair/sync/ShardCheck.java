package dev.arbor.repair.sync;

import dev.arbor.property.DefectSwitches;
import java.util.OptionalInt;

/**
 * This node's view of a group's shards. A session checks its own (group, shard) against it, and
 * every record it receives: the entity must hash to the session's shard under this shard count.
 */
@FunctionalInterface
public interface ShardCheck {
  /** The group's shard count, or empty when the group is not known on this node. */
  OptionalInt shardNum(String group);

  /** How far ahead of this node's clock a received record's revision may be. */
  default dev.arbor.property.RevisionBound revisionBound() {
    return dev.arbor.property.RevisionBound.NONE;
  }

  /** This check with records ahead of {@code bound} refused too. */
  default ShardCheck bounded(dev.arbor.property.RevisionBound bound) {
    ShardCheck counts = this;
    return new ShardCheck() {
      @Override
      public OptionalInt shardNum(String group) {
        return counts.shardNum(group);
      }

      @Override
      public dev.arbor.property.RevisionBound revisionBound() {
        return bound;
      }

      @Override
      public String copyRefusal(String group, int shard) {
        return counts.copyRefusal(group, shard);
      }

      @Override
      public DefectSwitches defects() {
        return counts.defects();
      }
    };
  }

  /**
   * Test-only defects switched back on in the sessions this check guards (both ends):
   * {@link dev.arbor.property.Defect#NO_ROUTING_CHECK} and
   * {@link dev.arbor.property.Defect#REJECTED_RECORDS_COMPLETE}. {@link DefectSwitches#NONE} in production.
   */
  default DefectSwitches defects() {
    return DefectSwitches.NONE;
  }

  /** This check with the test-only {@code defects} switched on (see {@link DefectSwitches}). */
  default ShardCheck withDefects(DefectSwitches defects) {
    ShardCheck inner = this;
    return new ShardCheck() {
      @Override
      public OptionalInt shardNum(String group) {
        return inner.shardNum(group);
      }

      @Override
      public dev.arbor.property.RevisionBound revisionBound() {
        return inner.revisionBound();
      }

      @Override
      public String copyRefusal(String group, int shard) {
        return inner.copyRefusal(group, shard);
      }

      @Override
      public DefectSwitches defects() {
        return defects;
      }
    };
  }

  /** Null when this node may repair (group, shard), else the reason. */
  default String refuse(String group, int shard) {
    return refusal(group, shard, shardNum(group));
  }

  /**
   * Null when this node's copy of (group, shard) may take part in repair, else why not (an
   * orphaned copy, which may lack deletes its owners purged).
   */
  default String copyRefusal(String group, int shard) {
    return null;
  }

  /** Null when (group, shard) exists under the shard count {@code n} (empty: unknown group), else why not. */
  static String refusal(String group, int shard, OptionalInt n) {
    if (n.isEmpty()) {
      return "group " + group + " is not known on this node";
    }
    return shard >= 0 && shard < n.getAsInt() ? null
        : "shard " + shard + " is out of range: group " + group + " has " + n.getAsInt() + " shard(s)";
  }
}
