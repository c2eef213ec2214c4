package dev.arbor.storage;

import dev.arbor.runtime.NodeRuntime;
import dev.arbor.property.Defect;
import dev.arbor.property.DefectSwitches;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Append-only log of write batches with group commit: writers append a frame and wait until a
 * single background fsync covers it, so concurrent writes share one sync.
 *
 * <p>Segment files {@code wal-<20-digit sequence>.log} start with a header (kind and format
 * version, see {@link WalSegments}); each frame is {@code u32 length ‖ u32 CRC32C(length ‖
 * payload) ‖ payload}, big-endian. Recovery ({@link WalRecovery}) cuts a torn tail off the last
 * segment and refuses any other damage; the segments are then replayed one frame at a time
 * ({@link Recovered#replay}). Header-less segments of older builds are replayed the same way. A
 * checkpoint {@link #roll() rolls} to a new segment; once the indexes are committed the old
 * segments are {@link #deleteSegments deleted}.
 *
 * <p>A failed fsync, wherever it happens (group commit, roll, close), latches the log as failed:
 * after a failed fsync the kernel may have dropped the dirty pages and a later fsync can succeed
 * without them, so nothing written since the last good sync may ever be acknowledged. Every later
 * append and wait fails; the node must restart and recover from what is on disk.
 */
public final class WriteAheadLog implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(WriteAheadLog.class);
  private static final int HEADER = WalFrameLayout.FRAME_HEADER;

  private final Path dir;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition pendingData = lock.newCondition();
  private final Condition durable = lock.newCondition();
  private final Thread syncer;
  private final SegmentSync sync;
  /** Test-only: {@link Defect#WAL_ROLL_DOES_NOT_LATCH} switched back on (never in production). */
  private final boolean rollDoesNotLatch;

  private FileChannel channel;
  private Path currentSegment;
  private long nextSegmentSeq;
  /** Sequence number of the segment appends go to now. */
  private volatile long currentSeq;
  private long written;
  private long synced;
  private IOException failure;
  private boolean closed;
  private long syncCount;

  private WriteAheadLog(Path dir, long nextSegmentSeq, SegmentSync sync, DefectSwitches defects,
      NodeRuntime runtime) throws IOException {
    this.rollDoesNotLatch = defects.has(Defect.WAL_ROLL_DOES_NOT_LATCH);
    this.dir = dir;
    this.nextSegmentSeq = nextSegmentSeq;
    this.sync = sync;
    openNewSegment();
    syncer = runtime.newThread("arbor-wal-sync", this::syncLoop);
    syncer.start();
  }

  /**
   * Checks the existing segments (cutting a torn tail off the last one; any other damage throws a
   * {@link StorageException} and changes nothing), then opens the log for appending in a fresh
   * segment. The recovered segments stay until deleted; {@link Recovered#replay} reads them.
   */
  public static Recovered open(Path dir) throws IOException {
    return open(dir, SegmentSync.FORCE);
  }

  /** As {@link #open(Path)}, its sync thread made by the node's runtime. */
  public static Recovered open(Path dir, NodeRuntime runtime) throws IOException {
    return open(dir, SegmentSync.FORCE, DefectSwitches.NONE, runtime);
  }

  /** As {@link #open(Path)}, with test-only defects switched back on (see {@link DefectSwitches}). */
  public static Recovered open(Path dir, DefectSwitches defects) throws IOException {
    return open(dir, SegmentSync.FORCE, defects);
  }

  /** As above, its sync thread made by the node's runtime. */
  public static Recovered open(Path dir, DefectSwitches defects, NodeRuntime runtime) throws IOException {
    return open(dir, SegmentSync.FORCE, defects, runtime);
  }

  /** As {@link #open(Path)}, syncing segments through {@code sync} (tests inject fsync failures). */
  static Recovered open(Path dir, SegmentSync sync) throws IOException {
    return open(dir, sync, DefectSwitches.NONE);
  }

  static Recovered open(Path dir, SegmentSync sync, DefectSwitches defects) throws IOException {
    return open(dir, sync, defects, NodeRuntime.system());
  }

  static Recovered open(Path dir, SegmentSync sync, DefectSwitches defects, NodeRuntime runtime)
      throws IOException {
    DurableDirectories.create(dir);
    List<WalSegmentScan> segments = WalRecovery.recover(dir);
    long next = segments.isEmpty() ? 1 : WalSegments.seqOf(segments.get(segments.size() - 1).path()) + 1;
    return new Recovered(new WriteAheadLog(dir, next, sync, defects, runtime), segments);
  }

  /**
   * How a segment's data reaches stable storage: {@code FileChannel.force(false)}. A seam only so
   * tests can make an fsync fail, which a real disk cannot be made to do on demand.
   */
  @FunctionalInterface
  interface SegmentSync {
    SegmentSync FORCE = ch -> ch.force(false);

    void force(FileChannel channel) throws IOException;
  }

  /** The log plus the segments recovery found, to replay. */
  public record Recovered(WriteAheadLog log, List<WalSegmentScan> segments) {
    /**
     * Streams every recovered frame in log order, one segment and one payload at a time, so
     * memory does not grow with the log.
     */
    public void replay(WalSegments.FrameConsumer consumer) throws IOException {
      for (WalSegmentScan s : segments) {
        WalSegments.forEachFrame(s, consumer);
      }
    }
  }

  /**
   * Sequence number of the segment appends go to now. A segment is deleted only by a checkpoint
   * after every write in it is committed; numbers grow for the life of the WAL directory.
   */
  public long currentSegment() {
    return currentSeq;
  }

  /** Appends one frame; returns the log position to pass to {@link #awaitDurable}. */
  public long append(byte[] payload) {
    ByteBuffer frame = WalFrameLayout.CURRENT.encode(payload);
    lock.lock();
    try {
      checkUsable();
      while (frame.hasRemaining()) {
        channel.write(frame);
      }
      written += HEADER + payload.length;
      pendingData.signal();
      return written;
    } catch (IOException e) {
      failure = e;
      durable.signalAll();
      throw new StorageException("write-ahead log append failed: " + e.getMessage(), e);
    } finally {
      lock.unlock();
    }
  }

  /** Blocks until everything up to {@code position} is on stable storage. */
  public void awaitDurable(long position) {
    lock.lock();
    try {
      while (synced < position) {
        checkUsable();
        durable.awaitUninterruptibly();
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Syncs and closes the current segment and starts a new one. Returns the segments that a
   * checkpoint may delete once every write before this call is committed elsewhere.
   */
  public List<Path> roll() throws IOException {
    lock.lock();
    try {
      checkUsable();
      try {
        sync.force(channel);
      } catch (IOException e) {
        if (rollDoesNotLatch) {
          throw e; // the defect a test may switch back on: rethrown, the log carries on
        }
        latch(e, "segment roll");
        throw new StorageException("write-ahead log fsync failed during a segment roll; refusing further writes: "
            + e.getMessage(), e);
      }
      synced = written;
      durable.signalAll();
      channel.close();
      List<Path> old = WalSegments.list(dir);
      try {
        openNewSegment();
      } catch (IOException e) {
        latch(e, "segment roll");
        throw e;
      }
      return old;
    } finally {
      lock.unlock();
    }
  }

  public void deleteSegments(List<Path> segments) throws IOException {
    for (Path p : segments) {
      if (!p.equals(currentSegment)) {
        Files.deleteIfExists(p);
      }
    }
    AtomicFileWriter.fsyncDirectory(dir);
  }

  /** Bytes appended since start (for checkpoint triggers and metrics). */
  public long writtenBytes() {
    lock.lock();
    try {
      return written;
    } finally {
      lock.unlock();
    }
  }

  /** Number of fsyncs issued by the group-commit thread (metrics; shows batching). */
  public long syncCount() {
    lock.lock();
    try {
      return syncCount;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() throws IOException {
    IOException err = null;
    lock.lock();
    try {
      if (closed) {
        return;
      }
      if (failure == null) {
        try {
          sync.force(channel);
          synced = written;
        } catch (IOException e) {
          latch(e, "close");
          err = e;
        }
      }
      closed = true;
      pendingData.signalAll();
      durable.signalAll();
      channel.close();
    } finally {
      lock.unlock();
    }
    try {
      syncer.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (err != null) {
      throw err;
    }
  }

  private void syncLoop() {
    while (true) {
      long target;
      FileChannel ch;
      lock.lock();
      try {
        while (!closed && failure == null && written == synced) {
          pendingData.awaitUninterruptibly();
        }
        if (closed || failure != null) {
          return;
        }
        target = written;
        ch = channel;
      } finally {
        lock.unlock();
      }
      IOException err = null;
      try {
        sync.force(ch);
      } catch (ClosedChannelException e) {
        // roll() or close() forced this segment before closing it; nothing left to do.
      } catch (IOException e) {
        err = e;
      }
      lock.lock();
      try {
        if (err != null) {
          latch(err, "group commit");
        } else if (failure == null) {
          // After a failure (say a roll's fsync failing while this one ran) a successful fsync
          // proves nothing about the pages the failed one may have dropped: nothing more is acked.
          synced = Math.max(synced, target);
          syncCount++;
        }
        durable.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  /** Marks the log failed (first failure wins) and wakes every waiter so it sees it. Holds the lock. */
  private void latch(IOException e, String during) {
    if (failure == null) {
      LOG.error("write-ahead log fsync failed during {}; refusing further writes", during, e);
      failure = e;
    }
    durable.signalAll();
    pendingData.signalAll();
  }

  /** Why the log refuses writes (a failed write or fsync), or null while it is usable. */
  public String failure() {
    lock.lock();
    try {
      return failure == null ? null : String.valueOf(failure.getMessage());
    } finally {
      lock.unlock();
    }
  }

  private void checkUsable() {
    if (failure != null) {
      throw new StorageException("write-ahead log failed earlier and refuses writes until the node restarts: "
          + failure.getMessage(), failure);
    }
    if (closed) {
      throw new StorageException("write-ahead log is closed");
    }
  }

  /** Creates the next segment with its header, durably, before any frame is appended to it. */
  private void openNewSegment() throws IOException {
    currentSeq = nextSegmentSeq;
    currentSegment = dir.resolve(WalSegments.name(nextSegmentSeq++));
    channel = FileChannel.open(currentSegment, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    ByteBuffer header = ByteBuffer.wrap(WalSegments.header());
    while (header.hasRemaining()) {
      channel.write(header);
    }
    sync.force(channel);
    AtomicFileWriter.fsyncDirectory(dir);
  }
}
