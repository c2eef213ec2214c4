package dev.arbor.repair.handoff;

/** One (group, shard) copy on this node. */
public record ShardRef(String group, int shard) {
  @Override
  public String toString() {
    return group + "/" + shard;
  }
}
