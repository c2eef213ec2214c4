package dev.arbor.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.CountDownLatch;

/**
 * The write-ahead log's fsync with faults a test asks for: the real {@code FileChannel.force}
 * runs, unless the fsync is on {@link #failOn} or {@link #failAll} is set (the EIO a dying disk
 * reports, which a real disk cannot be made to return on demand), and once {@link #release} is
 * set, fsyncs on other threads wait for it after counting down {@link #stalled} (so a test fixes
 * the order of two fsyncs).
 */
final class FaultySync implements WriteAheadLog.SegmentSync {
  /** fsyncs called on this thread fail. */
  volatile Thread failOn;
  /** Every fsync fails. */
  volatile boolean failAll;
  /** When set, fsyncs on other threads than {@link #failOn} wait for it (after counting down {@link #stalled}). */
  volatile CountDownLatch release;
  final CountDownLatch stalled = new CountDownLatch(1);

  @Override
  public void force(FileChannel channel) throws IOException {
    if (failAll || Thread.currentThread() == failOn) {
      throw new IOException("Input/output error (injected)");
    }
    CountDownLatch r = release;
    if (r != null) {
      stalled.countDown();
      try {
        r.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    channel.force(false);
  }
}
