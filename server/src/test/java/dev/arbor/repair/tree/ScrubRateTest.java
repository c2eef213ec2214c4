package dev.arbor.repair.tree;

import static dev.arbor.repair.tree.TreeTestSupport.str;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardWrite;
import dev.arbor.storage.StoreEvents;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --tree-scrub-rate}: a scrub (a build of a live shard) is held to the rate, a build a
 * session may wait for (a shard not live) is not, and the leaves read are counted. Only lower
 * bounds on time are asserted: pacing can make a scrub slower, never faster.
 */
class ScrubRateTest {
  private static final String G = "g";
  private static final int LEAVES = 3_000;

  @TempDir Path dir;
  private PropertyStore store;
  private RepairTrees trees;

  @AfterEach
  void close() throws Exception {
    if (trees != null) {
      trees.close();
    }
    if (store != null) {
      store.close();
    }
  }

  private void open(long rate) throws Exception {
    StoreEvents events = new StoreEvents();
    store = PropertyStore.open(dir.resolve("data"), g -> true, events);
    trees = new RepairTrees(dir.resolve("repair"), store, 32, rate);
    trees.loadExisting(g -> true);
    List<ShardWrite> batch = new ArrayList<>();
    for (int i = 0; i < LEAVES; i++) {
      PropertyRecord r = TreeTestSupport.live(new EntityKey(G, "n", "k" + i), 10 + i, str("v", "x" + i));
      batch.add(new ShardWrite(G, 0, r));
    }
    // Written before the trees follow: a shard whose tree was never built (one created while they
    // follow is live from its creation).
    store.applyEach(batch);
    trees.followWrites(events);
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aScrubHonoursTheRateAndABuildOfAShardNotLiveDoesNot() throws Exception {
    // 1 leaf per second: were the first build throttled, it would take most of an hour.
    open(1);
    assertThat(trees.isLive(G, 0)).isFalse();
    assertThat(trees.build(G, 0, false).outcome()).isEqualTo(BuildResult.Outcome.BUILT);
    assertThat(trees.isLive(G, 0)).isTrue();
    assertThat(trees.scrubbedLeaves()).isEqualTo(LEAVES);
  }

  @Test
  void aScrubTakesAtLeastTheTimeItsRateAllows() throws Exception {
    open(10_000);
    trees.build(G, 0, false);
    assertThat(trees.isLive(G, 0)).isTrue();
    long t0 = System.nanoTime();
    assertThat(trees.build(G, 0, true).outcome()).isEqualTo(BuildResult.Outcome.BUILT);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    // Paused after 1,024 and 2,048 leaves: the second pause ends 204.8 ms after the scrub began.
    assertThat(ms).as("scrub of %d leaves at 10,000/s", LEAVES).isGreaterThanOrEqualTo(204);
    assertThat(trees.scrubbedLeaves()).isEqualTo(2L * LEAVES);
    assertThat(trees.scrubMismatches()).isZero();
  }

  @Test
  void aNegativeRateIsRefused() {
    assertThatThrownBy(() -> new RepairTrees(dir, null, 32, -1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("scrub rate");
  }
}
