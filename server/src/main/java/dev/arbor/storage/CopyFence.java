package dev.arbor.storage;

/**
 * Which shard copies of this node may not be used: a copy this node stopped owning may lack later
 * deletes, so it is neither written, read by repair, nor repaired from until it is dropped.
 */
@FunctionalInterface
public interface CopyFence {
  /** No copy is fenced (standalone nodes, tests). */
  CopyFence NONE = (group, shard) -> null;

  /** Null when this node's copy of (group, shard) may be used, else why not. */
  String refusal(String group, int shard);
}
