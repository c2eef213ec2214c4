package dev.arbor.storage;

import static dev.arbor.storage.StorageTestSupport.live;
import static dev.arbor.storage.StorageTestSupport.str;
import static dev.arbor.storage.StorageTestSupport.tag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.runtime.Ticker;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A shard writer's merge wait and buffer: the server's defaults, and a writer that never waits for merges. */
class IndexTuningTest {
  @TempDir Path dir;

  @Test
  void theDefaultIsTheServersSettings() {
    IndexWriterConfig cfg = IndexLayout.writerConfig();
    IndexTuning.DEFAULT.applyTo(cfg);
    assertThat(cfg.getMaxFullFlushMergeWaitMillis()).isEqualTo(IndexWriterConfig.DEFAULT_MAX_FULL_FLUSH_MERGE_WAIT_MILLIS);
    assertThat(cfg.getRAMBufferSizeMB()).isEqualTo(32);
  }

  @Test
  void withoutFullFlushMergeWaitOnlyDropsTheWait() {
    IndexWriterConfig cfg = IndexLayout.writerConfig();
    IndexTuning.DEFAULT.withoutFullFlushMergeWait().applyTo(cfg);
    assertThat(cfg.getMaxFullFlushMergeWaitMillis()).isZero();
    assertThat(cfg.getRAMBufferSizeMB()).isEqualTo(32);
  }

  @Test
  void invalidSettingsAreRefusedNamingTheField() {
    assertThatThrownBy(() -> new IndexTuning(Duration.ofMillis(-1), 32)).hasMessageContaining("fullFlushMergeWait");
    assertThatThrownBy(() -> new IndexTuning(Duration.ZERO, 0)).hasMessageContaining("ramBufferMb");
  }

  @Test
  void aWriterThatNeverWaitsForMergesStillShowsEveryWriteAfterEachRefresh() throws Exception {
    try (ShardIndex index = new ShardIndex("g", 0, dir, Ticker.system(), IndexTuning.DEFAULT.withoutFullFlushMergeWait())) {
      // Many small flushes: merges run in the background, never inside a refresh.
      for (int i = 0; i < 40; i++) {
        PropertyRecord r = live(new EntityKey("g", "n", "k" + (i % 25)), i + 1, tag("t", str("v" + i)));
        index.put(r);
        index.refresh();
        assertThat(index.latest("g/n/k" + (i % 25))).isEqualTo(r);
        assertThat(index.search(new MatchAllDocsQuery(), 100, null)).hasSize(Math.min(i + 1, 25));
      }
    }
  }
}
