package dev.arbor.storage;

import java.util.ArrayList;
import java.util.List;

/**
 * What one multi-shard search spent on each shard, for a query trace: when the shard was first and
 * last searched, the time spent searching it and loading its records (the merge and the caller's
 * work excluded), how many records it matched (Lucene's count, exact up to its threshold) and how
 * many of them the caller took. One instance per search; the search runs on one thread.
 */
public final class ShardSearchStats {
  /**
   * One shard's figures. Times are {@link System#nanoTime()} values.
   *
   * @param matched how many live records matched; a lower bound when {@code matchedAtLeast}
   * @param returned the records this shard contributed to the merged result
   */
  public record Shard(String group, int shard, long firstStartNanos, long lastEndNanos, long busyNanos, int rounds,
      long matched, boolean matchedAtLeast, int returned) {}

  private static final class Acc {
    final String group;
    final int shard;
    long first = -1;
    long last;
    long busy;
    int rounds;
    long matched;
    boolean matchedAtLeast;
    int returned;

    Acc(String group, int shard) {
      this.group = group;
      this.shard = shard;
    }
  }

  private final List<Acc> shards = new ArrayList<>();

  void begin(List<ShardSearch> searches) {
    shards.clear();
    for (ShardSearch s : searches) {
      shards.add(new Acc(s.shard().group(), s.shard().shard()));
    }
  }

  void searched(int i, long start, long end, long matched, boolean atLeast) {
    Acc a = shards.get(i);
    if (a.first < 0) {
      a.first = start;
      // Later rounds search past a cursor; the first round's count covers the whole match.
      a.matched = matched;
      a.matchedAtLeast = atLeast;
    }
    a.last = Math.max(a.last, end);
    a.busy += end - start;
    a.rounds++;
  }

  void loaded(int i, long start, long end) {
    Acc a = shards.get(i);
    a.last = Math.max(a.last, end);
    a.busy += end - start;
  }

  void taken(int i) {
    shards.get(i).returned++;
  }

  /** Every shard searched, in the order the search listed them. */
  public List<Shard> shards() {
    List<Shard> out = new ArrayList<>(shards.size());
    for (Acc a : shards) {
      out.add(new Shard(a.group, a.shard, Math.max(0, a.first), a.last, a.busy, a.rounds, a.matched,
          a.matchedAtLeast, a.returned));
    }
    return out;
  }
}
