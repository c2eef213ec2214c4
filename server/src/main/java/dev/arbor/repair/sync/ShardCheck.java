package dev.arbor.repair.sync;

/** Tells whether this node may repair (group, shard): null when it may, else the reason. */
@FunctionalInterface
public interface ShardCheck {
  String refuse(String group, int shard);
}
