package dev.arbor.repair.handoff;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Whether this node was away so long that its copies may hold properties whose deletes the others
 * already purged. A delete it missed happened after it stopped; the others purge a tombstone only
 * once it is older than the grace (on a clock up to the skew apart). So an absence shorter than
 * grace minus skew is safe, a longer one is not.
 */
public final class AbsenceFence {
  private AbsenceFence() {}

  /**
   * Why every copy must be treated as an orphan, or empty when none must.
   *
   * <p>A missing last-alive time is not fenced: it is what a node upgraded from a version without
   * the file has, and fencing all of them at once in a rolling upgrade would drop every record older
   * than the grace on every node. The cost is that such a node, if it was also away for long,
   * resurrects as before; this happens at most once per data directory.
   */
  public static Optional<String> check(Optional<Instant> lastAlive, Instant now, Duration grace, Duration skew) {
    if (lastAlive.isEmpty()) {
      return Optional.empty();
    }
    Duration away = Duration.between(lastAlive.get(), now);
    Duration limit = grace.minus(skew);
    if (away.compareTo(limit) <= 0) {
      return Optional.empty();
    }
    return Optional.of("this node was away " + away.toSeconds() + " s (last alive " + lastAlive.get()
        + "), longer than --tombstone-grace minus --max-clock-skew (" + limit.toSeconds() + " s)");
  }

  /**
   * Why every copy must be treated as an orphan when the last-alive time cannot be read: unlike a
   * missing file, a damaged one says the node ran with the file, but not how long it was away; a
   * long absence is assumed, since assuming a short one could resurrect purged deletes.
   */
  public static String unreadable(String problem) {
    return "how long this node was away is unknown (" + problem + "), so it is treated as away longer than"
        + " --tombstone-grace minus --max-clock-skew";
  }
}
