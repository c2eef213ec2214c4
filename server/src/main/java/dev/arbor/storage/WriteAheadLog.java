package dev.arbor.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Append-only log of write batches with group commit: writers append a frame and wait until a
 * single background fsync covers it, so concurrent writes share one sync.
 *
 * <p>Segment files {@code wal-<20-digit sequence>.log}; each frame is {@code int32 length (LE) ‖
 * int32 CRC32C of payload (LE) ‖ payload}. On recovery, frames are read in order until the first
 * short or corrupt frame, which is a torn tail of an unacknowledged write: the file is truncated
 * there. A checkpoint {@link #roll() rolls} to a new segment; once the indexes are committed the
 * old segments are {@link #deleteSegments deleted}.
 *
 * <p>A failed fsync, wherever it happens (group commit, roll, close), latches the log as failed:
 * after a failed fsync the kernel may have dropped the dirty pages and a later fsync can succeed
 * without them, so nothing written since the last good sync may ever be acknowledged. Every later
 * append and wait fails; the node must restart and recover from what is on disk.
 */
public final class WriteAheadLog implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(WriteAheadLog.class);
  private static final int HEADER = 8;
  /** Frames larger than this are treated as corruption on recovery. */
  static final int MAX_FRAME = 256 << 20;

  private final Path dir;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition pendingData = lock.newCondition();
  private final Condition durable = lock.newCondition();
  private final Thread syncer;
  private final SegmentSync sync;

  private FileChannel channel;
  private Path currentSegment;
  private long nextSegmentSeq;
  private long written;
  private long synced;
  private IOException failure;
  private boolean closed;
  private long syncCount;

  private WriteAheadLog(Path dir, long nextSegmentSeq, SegmentSync sync) throws IOException {
    this.dir = dir;
    this.nextSegmentSeq = nextSegmentSeq;
    this.sync = sync;
    openNewSegment();
    syncer = new Thread(this::syncLoop, "arbor-wal-sync");
    syncer.setDaemon(true);
    syncer.start();
  }

  /**
   * Reads every intact frame of the existing segments in order, truncating a torn tail, then opens
   * the log for appending in a fresh segment. The recovered segments stay until deleted.
   */
  public static Recovered open(Path dir) throws IOException {
    return open(dir, SegmentSync.FORCE);
  }

  /** As {@link #open(Path)}, syncing segments through {@code sync} (tests inject fsync failures). */
  static Recovered open(Path dir, SegmentSync sync) throws IOException {
    Files.createDirectories(dir);
    List<Path> segments = listSegments(dir);
    List<byte[]> payloads = new ArrayList<>();
    for (int i = 0; i < segments.size(); i++) {
      readSegment(segments.get(i), payloads);
    }
    long next = segments.isEmpty() ? 1 : seqOf(segments.get(segments.size() - 1)) + 1;
    return new Recovered(new WriteAheadLog(dir, next, sync), payloads, segments);
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

  /** The log plus what recovery found. */
  public record Recovered(WriteAheadLog log, List<byte[]> payloads, List<Path> segments) {}

  /** Appends one frame; returns the log position to pass to {@link #awaitDurable}. */
  public long append(byte[] payload) {
    ByteBuffer frame = ByteBuffer.allocate(HEADER + payload.length).order(ByteOrder.LITTLE_ENDIAN);
    CRC32C crc = new CRC32C();
    crc.update(payload);
    frame.putInt(payload.length).putInt((int) crc.getValue()).put(payload).flip();
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
        latch(e, "segment roll");
        throw new StorageException("write-ahead log fsync failed during a segment roll; refusing further writes: "
            + e.getMessage(), e);
      }
      synced = written;
      durable.signalAll();
      channel.close();
      List<Path> old = listSegments(dir);
      openNewSegment();
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

  private void checkUsable() {
    if (failure != null) {
      throw new StorageException("write-ahead log failed earlier and refuses writes until the node restarts: "
          + failure.getMessage(), failure);
    }
    if (closed) {
      throw new StorageException("write-ahead log is closed");
    }
  }

  private void openNewSegment() throws IOException {
    currentSegment = dir.resolve(String.format("wal-%020d.log", nextSegmentSeq++));
    channel = FileChannel.open(currentSegment, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    AtomicFileWriter.fsyncDirectory(dir);
  }

  private static List<Path> listSegments(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().matches("wal-\\d{20}\\.log")).sorted().toList();
    }
  }

  private static long seqOf(Path segment) {
    String n = segment.getFileName().toString();
    return Long.parseLong(n.substring(4, 24));
  }

  private static void readSegment(Path segment, List<byte[]> out) throws IOException {
    try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long size = ch.size();
      long pos = 0;
      ByteBuffer header = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
      while (pos < size) {
        header.clear();
        if (size - pos < HEADER || readFully(ch, header, pos) < HEADER) {
          break;
        }
        header.flip();
        int len = header.getInt();
        int expectedCrc = header.getInt();
        if (len < 0 || len > MAX_FRAME || pos + HEADER + len > size) {
          break;
        }
        ByteBuffer payload = ByteBuffer.allocate(len);
        readFully(ch, payload, pos + HEADER);
        CRC32C crc = new CRC32C();
        crc.update(payload.array());
        if ((int) crc.getValue() != expectedCrc) {
          break;
        }
        out.add(payload.array());
        pos += HEADER + len;
      }
      if (pos < size) {
        LOG.warn(
            "write-ahead log {}: torn or corrupt tail at byte {} of {} (an unacknowledged write); truncating",
            segment, pos, size);
        ch.truncate(pos);
        ch.force(true);
      }
    }
  }

  private static int readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
    int total = 0;
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos + total);
      if (n < 0) {
        break;
      }
      total += n;
    }
    return total;
  }
}
