package dev.arbor.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A failed fsync must latch the write-ahead log wherever it happens. A real disk cannot be made
 * to fail an fsync on demand, so these tests inject the failure through the log's
 * {@link WriteAheadLog.SegmentSync} seam: the real {@code FileChannel.force} runs unless the test
 * asked for the {@code EIO} a dying disk would report, or for the group-commit thread's fsync to
 * stall so the order of the two fsyncs is fixed.
 */
class WalFsyncFailureTest {
  @TempDir Path tmp;

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void aFailedFsyncDuringRollLatchesTheLog_laterAppendsAndWaitsFail() throws Exception {
    FaultySync sync = new FaultySync();
    WriteAheadLog wal = WriteAheadLog.open(tmp.resolve("wal"), sync).log();
    CountDownLatch release = new CountDownLatch(1);
    try {
      wal.awaitDurable(wal.append(utf8("before")));
      // The group-commit fsync of the next write stalls; the checkpoint's roll fsync fails meanwhile.
      sync.release = release;
      sync.failOn = Thread.currentThread();
      long unsynced = wal.append(utf8("pages the kernel may drop"));
      assertThat(sync.stalled.await(10, TimeUnit.SECONDS)).isTrue();
      assertThatThrownBy(wal::roll)
          .isInstanceOf(StorageException.class)
          .hasMessageContaining("fsync failed during a segment roll")
          .hasRootCauseMessage("Input/output error (injected)");
      // The disk "recovers": the stalled fsync now succeeds, but it cannot bring back what the
      // failed one may have lost, so nothing may be acknowledged any more.
      sync.failOn = null;
      release.countDown();
      assertThatThrownBy(() -> wal.awaitDurable(unsynced))
          .isInstanceOf(StorageException.class)
          .hasMessageContaining("failed earlier");
      assertThatThrownBy(() -> wal.append(utf8("after")))
          .isInstanceOf(StorageException.class)
          .hasMessageContaining("failed earlier")
          .hasMessageContaining("Input/output error (injected)");
      assertThatThrownBy(wal::roll).isInstanceOf(StorageException.class).hasMessageContaining("failed earlier");
    } finally {
      release.countDown();
      wal.close();
    }
  }

  @Test
  void aFailedGroupCommitFsyncLatchesTheLogToo() throws IOException {
    FaultySync sync = new FaultySync();
    WriteAheadLog wal = WriteAheadLog.open(tmp.resolve("wal"), sync).log();
    try {
      sync.failAll = true;
      long pos = wal.append(utf8("never durable"));
      assertThatThrownBy(() -> wal.awaitDurable(pos)).isInstanceOf(StorageException.class)
          .hasMessageContaining("failed earlier");
      sync.failAll = false;
      assertThatThrownBy(() -> wal.append(utf8("after"))).isInstanceOf(StorageException.class);
      assertThatThrownBy(wal::roll).isInstanceOf(StorageException.class);
    } finally {
      wal.close();
    }
  }
}
