package dev.arbor.repair.gossip;

import dev.arbor.api.repair.v1.RoundOutcome;

/** Hears what the gossip layer does (metrics). Must be quick and never throw. */
public interface GossipObserver {
  GossipObserver NONE = new GossipObserver() {};

  default void received(String group, PropagationQueue.Decision decision) {}

  default void handled(String group, int shard, boolean success, long nanos) {}

  default void forwarded(String group, boolean success, long nanos) {}

  /** A round ended on this node. */
  default void roundEnded(String group, String origin, RoundOutcome outcome) {}
}
