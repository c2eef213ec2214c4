package dev.arbor.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A failed fsync must latch the write-ahead log wherever it happens. A real disk cannot be made
 * to fail an fsync on demand, so these tests inject the failure through the log's
 * {@link WriteAheadLog.SegmentSync} seam: the real {@code FileChannel.force} runs unless the test
 * armed a failure, in which case the next sync throws the {@code EIO} a dying disk would report.
 */
class WalFsyncFailureTest {
  @TempDir Path tmp;

  /** Real fsyncs until armed; then every sync fails. */
  private static final class FailingSync implements WriteAheadLog.SegmentSync {
    final AtomicBoolean fail = new AtomicBoolean();

    @Override
    public void force(FileChannel channel) throws IOException {
      if (fail.get()) {
        throw new IOException("Input/output error (injected)");
      }
      channel.force(false);
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void aFailedFsyncDuringRollLatchesTheLog_laterAppendsAndWaitsFail() throws IOException {
    FailingSync sync = new FailingSync();
    WriteAheadLog wal = WriteAheadLog.open(tmp.resolve("wal"), sync).log();
    try {
      wal.awaitDurable(wal.append(utf8("before")));
      long unsynced = wal.append(utf8("pages the kernel may drop"));
      sync.fail.set(true);
      assertThatThrownBy(wal::roll)
          .isInstanceOf(StorageException.class)
          .hasMessageContaining("fsync failed during a segment roll")
          .hasRootCauseMessage("Input/output error (injected)");
      // The disk "recovers": a later fsync would succeed, but it cannot bring back what the failed
      // one lost, so nothing may be acknowledged any more.
      sync.fail.set(false);
      assertThatThrownBy(() -> wal.awaitDurable(unsynced))
          .isInstanceOf(StorageException.class)
          .hasMessageContaining("failed earlier");
      assertThatThrownBy(() -> wal.append(utf8("after")))
          .isInstanceOf(StorageException.class)
          .hasMessageContaining("failed earlier")
          .hasMessageContaining("Input/output error (injected)");
      assertThatThrownBy(wal::roll).isInstanceOf(StorageException.class).hasMessageContaining("failed earlier");
    } finally {
      wal.close();
    }
  }

  @Test
  void aFailedGroupCommitFsyncLatchesTheLogToo() throws IOException {
    FailingSync sync = new FailingSync();
    WriteAheadLog wal = WriteAheadLog.open(tmp.resolve("wal"), sync).log();
    try {
      sync.fail.set(true);
      long pos = wal.append(utf8("never durable"));
      assertThatThrownBy(() -> wal.awaitDurable(pos)).isInstanceOf(StorageException.class)
          .hasMessageContaining("failed earlier");
      sync.fail.set(false);
      assertThatThrownBy(() -> wal.append(utf8("after"))).isInstanceOf(StorageException.class);
      assertThatThrownBy(wal::roll).isInstanceOf(StorageException.class);
    } finally {
      wal.close();
    }
  }
}
