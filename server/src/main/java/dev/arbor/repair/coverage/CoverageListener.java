package dev.arbor.repair.coverage;

import java.util.List;

/** Hears the rounds this node originated that covered their whole ring ({@link RoundCoverage}). */
@FunctionalInterface
public interface CoverageListener {
  CoverageListener NONE = (group, shard, roundStartNanos, roundId, ring) -> { };

  void covered(String group, int shard, long roundStartNanos, String roundId, List<String> ring);
}
