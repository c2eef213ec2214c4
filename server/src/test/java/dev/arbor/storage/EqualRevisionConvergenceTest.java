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
 * Writes whose revisions collide (two liaisons stamping the same {@code floor + 1} on one key with
 * different tags) must still converge: three real stores on disk take the writes in random orders
 * and then exchange everything through {@link PropertyStore#applyIfNewer} in random orders; every
 * replica must end with byte-identical records.
 */
class EqualRevisionConvergenceTest {
  private static final int SHARDS = 2;
  private static final String G = "g";

  @TempDir Path tmp;

  @Test
  void collidingRevisionsWithDifferentContentConvergeOnEveryReplica() throws IOException {
    long seed = System.nanoTime();
    System.out.println("[EqualRevisionConvergenceTest] seed=" + seed);
    Random rnd = new Random(seed);
    List<EntityKey> keys = new ArrayList<>();
    for (int k = 0; k < 40; k++) {
      keys.add(new EntityKey(G, "t", "k" + k));
    }
    // Per key a few versions, most of them at a revision some other version of the key also has.
    List<PropertyRecord> writes = new ArrayList<>();
    for (EntityKey key : keys) {
      int versions = 2 + rnd.nextInt(4);
      for (int v = 0; v < versions; v++) {
        long rev = 100 + rnd.nextInt(2);
        PropertyRecord r = PropertyRecord.live(key, rev, 1,
            propertyBytes(key, rev, 1, List.of(tag("v", str("writer-" + rnd.nextInt(1_000_000))))));
        if (rnd.nextInt(4) == 0) {
          r = r.tombstone(500 + rnd.nextInt(2)); // colliding delete times too
        }
        writes.add(r);
      }
    }
    List<PropertyStore> replicas = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        replicas.add(PropertyStore.open(tmp.resolve("r" + i), g -> true));
      }
      // Each replica sees a random subset of the writes, in its own order, one write at a time.
      Map<EntityKey, PropertyRecord> winner = new HashMap<>();
      for (PropertyStore s : replicas) {
        List<PropertyRecord> mine = new ArrayList<>(writes);
        Collections.shuffle(mine, rnd);
        for (PropertyRecord r : mine.subList(0, 1 + rnd.nextInt(mine.size()))) {
          s.applyIfNewer(List.of(write(r)));
          winner.merge(r.key(), r, (a, b) -> LastWriteWins.beats(b, a) ? b : a);
        }
      }
      // Anti-entropy: every replica pushes everything it holds to every other, in random order,
      // in random batch sizes (several versions of one key in one batch included).
      for (int pass = 0; pass < 2; pass++) {
        List<int[]> pairs = new ArrayList<>();
        for (int a = 0; a < 3; a++) {
          for (int b = 0; b < 3; b++) {
            if (a != b) {
              pairs.add(new int[] {a, b});
            }
          }
        }
        Collections.shuffle(pairs, rnd);
        for (int[] p : pairs) {
          List<ShardWrite> held = new ArrayList<>();
          for (EntityKey k : keys) {
            PropertyRecord r = replicas.get(p[0]).latest(G, shardOf(k), k);
            if (r != null) {
              held.add(write(r));
            }
          }
          Collections.shuffle(held, rnd);
          for (int from = 0; from < held.size(); ) {
            int to = Math.min(held.size(), from + 1 + rnd.nextInt(8));
            replicas.get(p[1]).applyIfNewer(held.subList(from, to));
            from = to;
          }
        }
      }
      for (EntityKey k : keys) {
        PropertyRecord first = winner.get(k);
        if (first == null) {
          continue; // no replica took a write of this key
        }
        for (PropertyStore s : replicas) {
          PropertyRecord r = s.latest(G, shardOf(k), k);
          assertThat(r).as("seed %d: %s holds the same record (the winner) on every replica", seed, k)
              .isEqualTo(first);
        }
        // Nothing left to exchange: the winner is in sync with every copy (no push stores anything).
        for (PropertyStore s : replicas) {
          assertThat(s.applyIfNewer(List.of(write(first)))).as("seed %d: %s", seed, k).isEmpty();
        }
      }
    } finally {
      for (PropertyStore s : replicas) {
        s.close();
      }
    }
  }

  private static int shardOf(EntityKey k) {
    return ShardRouter.shardOf(k, SHARDS);
  }

  private static ShardWrite write(PropertyRecord r) {
    return new ShardWrite(G, shardOf(r.key()), r);
  }
}
