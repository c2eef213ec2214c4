package dev.arbor.storage;

import dev.arbor.errors.ResourceExhaustedException;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongSupplier;

/**
 * Refuses writes (client writes and repair alike) while the file system holding the data
 * directory is fuller than a limit, so a node stops before the disk is full instead of failing
 * half-way through a WAL frame or a Lucene flush. Usage is read at most every
 * {@link #RECHECK_NANOS}, so the check costs nothing per write.
 */
public final class DiskUsageGuard implements WriteGuard {
  static final long RECHECK_NANOS = 1_000_000_000L;

  private final FileStore store;
  private final Path dir;
  private final int maxPercent;
  private final LongSupplier nanoTime;
  private volatile long checkedAt;
  private volatile double usedPercent;
  private volatile boolean initialized;
  private final java.util.concurrent.atomic.AtomicLong refused = new java.util.concurrent.atomic.AtomicLong();

  public DiskUsageGuard(Path dir, int maxPercent, LongSupplier nanoTime) throws IOException {
    if (maxPercent < 1 || maxPercent > 100) {
      throw new IllegalArgumentException("--max-disk-usage-percent must be between 1 and 100");
    }
    DurableDirectories.create(dir);
    this.store = Files.getFileStore(dir);
    this.dir = dir;
    this.maxPercent = maxPercent;
    this.nanoTime = nanoTime;
  }

  @Override
  public void check() {
    if (maxPercent == 100) {
      return;
    }
    double used = usedPercent();
    if (used > maxPercent) {
      refused.incrementAndGet();
      throw new ResourceExhaustedException(String.format(
          "disk of %s is %.1f%% full, above --max-disk-usage-percent %d: writes are refused until space is freed",
          dir.toAbsolutePath(), used, maxPercent));
    }
  }

  /** The file system's used share, in percent (refreshed at most every second). */
  public double usedPercent() {
    long now = nanoTime.getAsLong();
    if (!initialized || now - checkedAt >= RECHECK_NANOS) {
      try {
        long total = store.getTotalSpace();
        long usable = store.getUsableSpace();
        usedPercent = total <= 0 ? 0 : 100.0 * (total - usable) / total;
      } catch (IOException e) {
        // Unknown is not full: an unreadable figure must not stop every write.
        usedPercent = 0;
      }
      checkedAt = now;
      initialized = true;
    }
    return usedPercent;
  }

  /** Writes refused since start. */
  public long refused() {
    return refused.get();
  }
}
