package dev.arbor.simulation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A tombstone's delete time starts its grace, so it must be the time of the delete that wrote it,
 * within the clocks' allowed skew: a liaison's clock may be off by the bound, and the data node
 * judging a fresh delete by as much again. So every tombstone a replica holds must have been
 * stamped inside the window of some delete of its key — from twice the bound before the delete
 * was invoked to twice the bound after it ended (a stamp above a version written ahead, itself at
 * most the bound ahead of a node that was at most the bound ahead). A tombstone dated earlier
 * purges that much before the grace runs out: the data node must refuse a fresh delete stamped by
 * a clock that far behind. Checked on every replica that is up right after each delete ends.
 */
final class TombstoneTimes {
  /** A delete's window; open-ended while the delete is in flight. */
  final class Window {
    private final long from;
    private volatile long to = Long.MAX_VALUE;

    private Window(long from) {
      this.from = from;
    }

    void ended(long endedNanos) {
      to = endedNanos + slackNanos;
    }
  }

  private final long slackNanos;
  private final Map<String, List<Window>> windows = new HashMap<>();

  /** @param maxSkewNanos the clocks' allowed skew */
  TombstoneTimes(long maxSkewNanos) {
    this.slackNanos = 2 * maxSkewNanos + 1_000_000;
  }

  /** A delete of {@code key} is invoked now (whatever its outcome will be): end its window when it ends. */
  Window begins(String key, long invokedNanos) {
    Window w = new Window(invokedNanos - slackNanos);
    windows.computeIfAbsent(key, k -> new ArrayList<>()).add(w);
    return w;
  }

  /** Why a tombstone of {@code key} dated {@code deleteTime} could not come from any delete of it; null when it could. */
  String problem(String key, long deleteTime, long virtualEpoch) {
    for (Window w : windows.getOrDefault(key, List.of())) {
      if (deleteTime >= w.from && deleteTime <= w.to) {
        return null;
      }
    }
    return "a tombstone of " + key + " is dated " + (deleteTime - virtualEpoch) / 1_000_000 + " ms (virtual), outside"
        + " every delete of the key (± twice the allowed skew): " + windows.getOrDefault(key, List.of()).stream()
            .map(w -> "[" + (w.from - virtualEpoch) / 1_000_000 + ".." + (w.to - virtualEpoch) / 1_000_000 + "]")
            .toList();
  }
}
