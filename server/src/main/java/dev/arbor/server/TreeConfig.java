package dev.arbor.server;

import java.time.Duration;

/**
 * Repair-tree settings of a data node.
 *
 * @param slotCount slots per tree (must be equal on all nodes)
 * @param buildSchedule when trees are rebuilt (cron, @hourly, or "@every 30s")
 * @param quickBuildDelay delay of the quick build after the first write since the last one
 * @param buildThreads concurrent tree builds
 */
public record TreeConfig(int slotCount, String buildSchedule, Duration quickBuildDelay, int buildThreads) {
  public static final TreeConfig DEFAULTS = new TreeConfig(32, "0 * * * *", Duration.ofMinutes(10), 1);
}
