package dev.arbor.storage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The WAL volume since the last checkpoint drives the size-triggered checkpoint. */
class WalSinceCheckpointTest {
  @TempDir Path dir;

  @Test
  void growsWithWritesAndResetsAtCheckpoint() throws Exception {
    try (PropertyStore store = PropertyStore.open(dir, g -> true)) {
      long atOpen = store.walBytesSinceCheckpoint();
      EntityKey key = new EntityKey("g", "n", "a");
      byte[] source = "x".repeat(5000).getBytes(StandardCharsets.UTF_8);
      store.applyIfNewer(List.of(new ShardWrite("g", 0, PropertyRecord.live(key, 10, 10, source))));
      long afterWrite = store.walBytesSinceCheckpoint();
      assertThat(afterWrite - atOpen).isGreaterThan(5000);
      store.checkpoint();
      assertThat(store.walBytesSinceCheckpoint()).isZero();
      assertThat(store.latest("g", 0, key).modRevision()).isEqualTo(10);
    }
  }
}
