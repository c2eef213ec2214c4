package dev.arbor.repair;

import dev.arbor.api.repair.v1.HopResult;
import dev.arbor.api.repair.v1.RoundOutcome;

/** Hears the rounds this node originates (metrics). Must be quick and never throw. */
public interface RoundObserver {
  RoundObserver NONE = new RoundObserver() {};

  default void roundStarted(String group, int shard, String trigger) {}

  default void hopReported(String group, int shard, HopResult hop) {}

  default void roundFinished(String group, int shard, RoundOutcome outcome, long nanos) {}
}
