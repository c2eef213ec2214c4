package dev.arbor.repair.tree;

/**
 * The outcome of one build request for a shard.
 *
 * @param group the group
 * @param shard the shard
 * @param outcome what happened
 * @param summary the tree now served (null when none, e.g. after a failure)
 * @param snapshotId commit generation read (or the unchanged one)
 * @param durationNanos wall time of the attempt
 * @param message detail for humans (failure reason, skip reason)
 */
public record BuildResult(
    String group, int shard, Outcome outcome, TreeSummary summary, long snapshotId, long durationNanos, String message) {

  /** What a build attempt did. */
  public enum Outcome {
    /** A new tree file was written. */
    BUILT,
    /** The shard holds no leaves; the empty tree is served. */
    EMPTY,
    /** The snapshot id equals the last build's: nothing to do. */
    UNCHANGED,
    /** Another build of this shard was running: skipped, not queued. */
    BUSY,
    /** The node is shutting down. */
    CANCELLED,
    /** The build failed; the previous tree (if valid) stays served. */
    FAILED
  }
}
