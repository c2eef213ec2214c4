package dev.arbor.storage;

import static dev.arbor.storage.StorageTestSupport.live;
import static dev.arbor.storage.StorageTestSupport.str;
import static dev.arbor.storage.StorageTestSupport.tag;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bytes of writes not yet visible to searches, which the background refresh budgets. */
class ShardIndexPendingTest {
  @TempDir Path dir;

  @Test
  void pendingBytesFollowWritesReplacementsAndRefreshes() throws Exception {
    try (ShardIndex index = new ShardIndex("g", 0, dir)) {
      assertThat(index.pendingBytes()).isZero();
      assertThat(index.pendingAgeNanos()).isZero();
      PropertyRecord a1 = live(new EntityKey("g", "n", "a"), 1, tag("t", str("x".repeat(100))));
      PropertyRecord b1 = live(new EntityKey("g", "n", "b"), 1, tag("t", str("y")));
      index.put(a1);
      index.put(b1);
      assertThat(index.pendingBytes()).isEqualTo(a1.source().length + b1.source().length);
      assertThat(index.pendingAgeNanos()).isPositive();

      PropertyRecord a2 = live(new EntityKey("g", "n", "a"), 2, tag("t", str("z")));
      index.put(a2);
      assertThat(index.pendingBytes()).as("a replaced: only its latest counts").isEqualTo(a2.source().length + b1.source().length);

      index.refresh();
      assertThat(index.pendingBytes()).isZero();
      assertThat(index.pendingAgeNanos()).isZero();
      assertThat(index.latest("g/n/a")).isEqualTo(a2);
    }
  }
}
