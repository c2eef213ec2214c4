package dev.arbor.storage;

import dev.arbor.property.EntityKey;
import java.util.Map;
import java.util.Set;

/**
 * What a store replayed from its WAL at open.
 *
 * @param firstSegment sequence number of the first segment replayed (0: none was found)
 * @param lastSegment sequence number of the last segment replayed (0: none was found)
 * @param keysByShard keys of the replayed records (superseded ones included), by {@code group/shard}
 */
public record RecoveredWal(long firstSegment, long lastSegment, Map<String, Set<EntityKey>> keysByShard) {
  /** True when segment {@code seq} and every later one up to the open were replayed. */
  public boolean replayedFrom(long seq) {
    return firstSegment > 0 && firstSegment <= seq && seq <= lastSegment;
  }

  /** Keys of (group, shard) the replay held, possibly none. */
  public Set<EntityKey> keys(String group, int shard) {
    return keysByShard.getOrDefault(group + "/" + shard, Set.of());
  }
}
