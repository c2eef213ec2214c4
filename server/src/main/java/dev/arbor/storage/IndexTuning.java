package dev.arbor.storage;

import java.time.Duration;
import org.apache.lucene.index.IndexWriterConfig;

/**
 * How a shard's Lucene writer trades memory and merging against latency. {@link #DEFAULT} is
 * what the server runs with; tests that open many small stores may choose otherwise.
 *
 * @param fullFlushMergeWait how long a refresh or commit waits for the merges of the small
 *     segments it just flushed (Lucene merges them into one before the reader opens); zero leaves
 *     them to the background merges
 * @param ramBufferMb the writer's indexing buffer, per shard
 */
public record IndexTuning(Duration fullFlushMergeWait, double ramBufferMb) {
  /** The server's settings: Lucene's own merge wait, a 32 MB buffer per shard. */
  public static final IndexTuning DEFAULT = new IndexTuning(
      Duration.ofMillis(IndexWriterConfig.DEFAULT_MAX_FULL_FLUSH_MERGE_WAIT_MILLIS), 32);

  public IndexTuning {
    if (fullFlushMergeWait.isNegative()) {
      throw new IllegalArgumentException("fullFlushMergeWait must not be negative: " + fullFlushMergeWait);
    }
    if (!(ramBufferMb > 0)) {
      throw new IllegalArgumentException("ramBufferMb must be positive: " + ramBufferMb);
    }
  }

  /** These settings, with refreshes and commits that never wait for merges. */
  public IndexTuning withoutFullFlushMergeWait() {
    return new IndexTuning(Duration.ZERO, ramBufferMb);
  }

  void applyTo(IndexWriterConfig cfg) {
    cfg.setMaxFullFlushMergeWaitMillis(fullFlushMergeWait.toMillis());
    cfg.setRAMBufferSizeMB(ramBufferMb);
  }
}
