package dev.arbor.repair.sync;

import java.time.Duration;

/**
 * Bulk transfer to an empty replica (see {@link BulkSender}).
 *
 * @param enabled offer (as client) and take (as server) Lucene files instead of records when the
 *     server's copy of a shard is empty ({@code --repair-bulk-transfer})
 * @param chunkDelay test only: how long a receiver waits before acknowledging each chunk, so a
 *     test can stop a node in the middle of a transfer (hidden flag; zero otherwise)
 */
public record BulkSettings(boolean enabled, Duration chunkDelay) {
  public static final BulkSettings DEFAULTS = new BulkSettings(true, Duration.ZERO);
  public static final BulkSettings OFF = new BulkSettings(false, Duration.ZERO);
  /** Bytes of one file chunk: one message, bounded like the session's other replies. */
  static final int CHUNK_BYTES = 1 << 20;
}
