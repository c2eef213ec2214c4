package dev.arbor.repair.tree;

import dev.arbor.storage.DurableDirectories;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Writes the journal of one live tree (one tree instance: a replaced or ended tree gets a new
 * writer): a whole file first, then one appended {@link LiveJournal.Delta} block per store
 * checkpoint, each fsynced before the checkpoint may delete WAL segments. When the appended blocks
 * outweigh the whole state they extend, the file is compacted — read back, merged and rewritten
 * whole — so its size stays within about twice the state, and the cost of compacting is paid for
 * by the appends before it.
 *
 * <p>The file is written through one channel kept open across the rename: if the tree ends and the
 * file is deleted or replaced meanwhile, appends land in the unlinked file and are harmless. The
 * caller holds {@link #lock()} from capturing a delta to appending it, so blocks are in capture order.
 */
final class LiveJournalWriter implements AutoCloseable {
  /** The file is compacted once it is this large and more than twice its whole block. */
  static final long COMPACT_MIN_BYTES = 1 << 20;

  private final Path dir;
  private final int slotCount;
  private final long compactMinBytes;
  private final ReentrantLock lock = new ReentrantLock();
  private volatile boolean stale;
  private FileChannel channel;
  private long fileBytes;
  private long wholeBytes;
  private boolean needsWhole = true;
  private long appends;
  private long compactions;

  LiveJournalWriter(Path dir, int slotCount) {
    this(dir, slotCount, COMPACT_MIN_BYTES);
  }

  LiveJournalWriter(Path dir, int slotCount, long compactMinBytes) {
    this.dir = dir;
    this.slotCount = slotCount;
    this.compactMinBytes = compactMinBytes;
  }

  ReentrantLock lock() {
    return lock;
  }

  /** True until a whole file was written, and again after a failed append: deltas alone would not be complete. */
  boolean needsWhole() {
    return needsWhole;
  }

  /**
   * Writes {@code j} as a new whole file, published by {@code publish} (which renames the temp file
   * if the tree is still current and returns whether it did). Caller holds {@link #lock()}.
   */
  void writeWhole(LiveJournal j, Publisher publish) throws IOException {
    needsWhole = true;
    DurableDirectories.create(dir);
    Path tmp = dir.resolve(LiveJournal.FILE + ".tmp");
    FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE, StandardOpenOption.READ);
    boolean published = false;
    try {
      byte[] bytes = j.encode();
      writeFully(ch, ByteBuffer.wrap(bytes), 0);
      ch.force(true);
      published = publish.publish(tmp);
      if (!published) {
        return;
      }
      closeChannel();
      channel = ch;
      LiveJournal.sync(dir);
      fileBytes = bytes.length;
      wholeBytes = bytes.length;
      needsWhole = false;
    } finally {
      if (!published) {
        ch.close();
        Files.deleteIfExists(tmp);
      }
    }
  }

  /** Appends one delta block and fsyncs it. Caller holds {@link #lock()}; a failure requires a whole rewrite next. */
  void append(LiveJournal.Delta d) throws IOException {
    if (needsWhole || channel == null) {
      throw new IllegalStateException("append before a whole journal was written");
    }
    needsWhole = true;
    byte[] block = LiveJournal.encode(d);
    writeFully(channel, ByteBuffer.wrap(block), fileBytes);
    channel.force(false);
    fileBytes += block.length;
    appends++;
    needsWhole = false;
  }

  /** Whether the appended blocks outweigh the whole state enough to rewrite the file. */
  boolean shouldCompact() {
    return !needsWhole && fileBytes >= compactMinBytes && fileBytes > 2 * wholeBytes;
  }

  /** Rewrites the file whole from its own blocks (no copy of the live state needed). Caller holds {@link #lock()}. */
  void compact(Publisher publish) throws IOException {
    ByteBuffer all = ByteBuffer.allocate(Math.toIntExact(fileBytes));
    while (all.hasRemaining()) {
      if (channel.read(all, all.position()) < 0) {
        throw new IOException("journal shorter than written");
      }
    }
    LiveJournal.Read r = LiveJournal.decode(all.array(), dir.resolve(LiveJournal.FILE).toString(), slotCount);
    if (r.tornBytes() != 0) {
      throw new IOException("journal being compacted has a torn tail of " + r.tornBytes() + " bytes");
    }
    writeWhole(r.journal(), publish);
    compactions++;
  }

  long fileBytes() {
    return fileBytes;
  }

  long appends() {
    return appends;
  }

  long compactions() {
    return compactions;
  }

  /** Marks this writer as belonging to a tree that ended; whoever holds the lock closes it. */
  void retire() {
    stale = true;
    if (lock.tryLock()) {
      try {
        closeChannel();
      } finally {
        lock.unlock();
      }
    }
  }

  boolean retired() {
    return stale;
  }

  @Override
  public void close() {
    closeChannel();
  }

  private void closeChannel() {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // nothing written is lost: every block was fsynced when appended
      }
      channel = null;
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
    long pos = at;
    while (b.hasRemaining()) {
      pos += ch.write(b, pos);
    }
  }

  /** Renames a fully written temp journal over {@code live.bin} if its tree is still current. */
  @FunctionalInterface
  interface Publisher {
    boolean publish(Path tmp) throws IOException;
  }
}
