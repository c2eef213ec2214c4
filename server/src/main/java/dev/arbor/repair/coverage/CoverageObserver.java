package dev.arbor.repair.coverage;

/** Hears the periodic coverage check (metrics). Must be quick and never throw. */
public interface CoverageObserver {
  CoverageObserver NONE = (group, shard, ageSeconds, overdue) -> { };

  /**
   * @param ageSeconds time since the shard's coverage watermark (or since this node started
   *     watching the shard, when no round covered it yet)
   * @param overdue the age passed the warning threshold (3/4 of the tombstone grace)
   */
  void shardCoverage(String group, int shard, double ageSeconds, boolean overdue);
}
