package dev.arbor.storage;

import static dev.arbor.storage.StorageTestSupport.propertyBytes;
import static dev.arbor.storage.StorageTestSupport.str;
import static dev.arbor.storage.StorageTestSupport.tag;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.property.EntityKey;
import dev.arbor.property.LastWriteWins;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recovery must replay the write-ahead log by last-write-wins: a frame older than a document the
 * index already committed (a segment a crash left behind, replayed over newer writes) never
 * replaces it, while newer frames still win.
 */
class WalReplayLwwTest {
  private static final String G = "g";
  private static final int SHARDS = 3;

  @TempDir Path tmp;

  private static PropertyRecord version(EntityKey k, long rev, String value) {
    return PropertyRecord.live(k, rev, 1, propertyBytes(k, rev, 1, List.of(tag("v", str(value)))));
  }

  private static ShardWrite write(PropertyRecord r) {
    return new ShardWrite(G, ShardRouter.shardOf(r.key(), SHARDS), r);
  }

  @Test
  void anOlderWalFrameNeverOverwritesANewerCommittedDocument() throws IOException {
    EntityKey k = new EntityKey(G, "t", "k");
    PropertyRecord v1 = version(k, 1, "old");
    PropertyRecord v2 = version(k, 2, "new");
    Path dir = tmp.resolve("node");
    try (PropertyStore s = PropertyStore.open(dir, g -> true)) {
      s.applyIfNewer(List.of(write(v2)));
    } // close checkpoints: v2 is committed in the index, the WAL is empty
    // A segment holding v1 left behind (its deletion after the commit never happened).
    appendSegment(dir.resolve("wal"), List.of(List.of(write(v1))));
    try (PropertyStore s = PropertyStore.open(dir, g -> true)) {
      assertThat(s.latest(G, write(v1).shard(), k)).isEqualTo(v2);
    }
    try (PropertyStore s = PropertyStore.open(dir, g -> true)) {
      assertThat(s.latest(G, write(v1).shard(), k)).as("after the recovery checkpoint too").isEqualTo(v2);
    }
  }

  @Test
  void replayOfRandomFramesOverACommittedIndexKeepsTheLwwWinnerOfEveryKey() throws IOException {
    long seed = System.nanoTime();
    System.out.println("[WalReplayLwwTest] seed=" + seed);
    Random rnd = new Random(seed);
    Path dir = tmp.resolve("node");
    List<EntityKey> keys = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      keys.add(new EntityKey(G, "t", "k" + i));
    }
    Map<EntityKey, PropertyRecord> winner = new HashMap<>();
    try (PropertyStore s = PropertyStore.open(dir, g -> true)) {
      for (EntityKey k : keys) {
        if (rnd.nextInt(4) > 0) {
          PropertyRecord r = version(k, 5 + rnd.nextInt(10), "committed");
          if (rnd.nextInt(5) == 0) {
            r = r.tombstone(100 + rnd.nextInt(50));
          }
          s.applyIfNewer(List.of(write(r)));
          winner.put(k, r);
        }
      }
    }
    // Frames of older, equal-revision and newer versions, in random order, several per batch.
    List<ShardWrite> frames = new ArrayList<>();
    for (EntityKey k : keys) {
      for (int v = rnd.nextInt(4); v > 0; v--) {
        PropertyRecord r = version(k, 1 + rnd.nextInt(20), "wal-" + rnd.nextInt(1000));
        if (rnd.nextInt(5) == 0) {
          r = r.tombstone(100 + rnd.nextInt(50));
        }
        frames.add(write(r));
        winner.merge(k, r, (a, b) -> LastWriteWins.beats(b, a) ? b : a);
      }
    }
    Collections.shuffle(frames, rnd);
    List<List<ShardWrite>> batches = new ArrayList<>();
    for (int i = 0; i < frames.size(); ) {
      int to = Math.min(frames.size(), i + 1 + rnd.nextInt(5));
      batches.add(frames.subList(i, to));
      i = to;
    }
    appendSegment(dir.resolve("wal"), batches);
    try (PropertyStore s = PropertyStore.open(dir, g -> true)) {
      for (EntityKey k : keys) {
        PropertyRecord got = s.latest(G, write(version(k, 1, "")).shard(), k);
        assertThat(got).as("seed %d: %s", seed, k).isEqualTo(winner.get(k));
      }
    }
  }

  /** Writes the batches as WAL frames of a new segment, the way the store logs them. */
  private static void appendSegment(Path walDir, List<List<ShardWrite>> batches) throws IOException {
    try (WriteAheadLog wal = WriteAheadLog.open(walDir).log()) {
      long pos = 0;
      for (List<ShardWrite> b : batches) {
        pos = wal.append(WalBatchCodec.encode(b));
      }
      wal.awaitDurable(pos);
    }
  }
}
