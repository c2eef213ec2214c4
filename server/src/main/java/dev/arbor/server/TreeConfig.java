package dev.arbor.server;

import java.time.Duration;

/**
 * Repair-tree settings of a data node.
 *
 * @param slotCount slots per tree (must be equal on all nodes)
 * @param buildSchedule when trees are rebuilt (cron, @hourly, or "@every 30s")
 * @param quickBuildDelay delay of the quick build after the first write since the last one
 * @param buildThreads concurrent tree builds
 * @param scrubLeavesPerSecond leaves per second a scrub (a build of a live tree) reads at most; 0 = unthrottled
 * @param maxOverlayLeaves leaves written since a live tree's build above which it is scrubbed (rebuilt) early
 */
public record TreeConfig(int slotCount, String buildSchedule, Duration quickBuildDelay, int buildThreads,
    long scrubLeavesPerSecond, long maxOverlayLeaves) {
  public static final long DEFAULT_SCRUB_RATE = 500_000;
  public static final TreeConfig DEFAULTS =
      new TreeConfig(32, "0 * * * *", Duration.ofMinutes(10), 1, DEFAULT_SCRUB_RATE);

  public TreeConfig(int slotCount, String buildSchedule, Duration quickBuildDelay, int buildThreads,
      long scrubLeavesPerSecond) {
    this(slotCount, buildSchedule, quickBuildDelay, buildThreads, scrubLeavesPerSecond,
        dev.arbor.repair.tree.RepairTrees.DEFAULT_MAX_OVERLAY_LEAVES);
  }

  public TreeConfig {
    if (scrubLeavesPerSecond < 0) {
      throw new IllegalArgumentException("--tree-scrub-rate must be >= 0 (0 = unthrottled), got " + scrubLeavesPerSecond);
    }
    if (maxOverlayLeaves <= 0) {
      throw new IllegalArgumentException("--tree-live-max-overlay must be > 0, got " + maxOverlayLeaves);
    }
  }
}
