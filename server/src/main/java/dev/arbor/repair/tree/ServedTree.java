package dev.arbor.repair.tree;

import java.io.Closeable;
import java.io.IOException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NoSuchElementException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A tree as a repair session sees it: its summary and its leaves. Either a tree file as built
 * (the checkpoint: summary and an open reader, none when empty) or a view of the incremental
 * state: the checkpoint's leaves overlaid by the leaves written since, frozen when the view was
 * taken. Reference counted so a rebuild can replace the checkpoint while a session still streams
 * its leaves; the reader closes when the last holder releases it.
 */
public final class ServedTree implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ServedTree.class);
  private final TreeSummary summary;
  private final TreeFileReader reader;
  /** Per slot, entity → sha ({@link LiveTree#REMOVED} = gone) written since the checkpoint; null for a checkpoint. */
  private final List<NavigableMap<byte[], byte[]>> overlay;
  /** The checkpoint a view reads through (retained by the view); null for a checkpoint. */
  private final ServedTree checkpoint;
  private final AtomicInteger refs = new AtomicInteger(1);

  ServedTree(TreeSummary summary, TreeFileReader reader) {
    this(summary, reader, null, null);
  }

  private ServedTree(TreeSummary summary, TreeFileReader reader, List<NavigableMap<byte[], byte[]>> overlay,
      ServedTree checkpoint) {
    this.summary = summary;
    this.reader = reader;
    this.overlay = overlay;
    this.checkpoint = checkpoint;
  }

  /** A view of {@code checkpoint} (already retained for the view) with {@code overlay} on top. */
  static ServedTree view(ServedTree checkpoint, TreeSummary summary, List<NavigableMap<byte[], byte[]>> overlay) {
    return new ServedTree(summary, checkpoint.reader, overlay, checkpoint);
  }

  public TreeSummary summary() {
    return summary;
  }

  /** True when the tree has no leaf. */
  public boolean isEmpty() {
    return summary.leafCount() == 0;
  }

  /**
   * Streams one slot's leaves in entity order. Iteration throws {@link java.io.UncheckedIOException}
   * wrapping a {@link CorruptTreeException} when the checkpoint's bytes fail their checksum.
   */
  public SlotCursor leaves(int slot) throws IOException {
    Iterator<TreeLeaf> file = reader == null ? null : reader.leaves(slot);
    NavigableMap<byte[], byte[]> written = overlay == null ? null : overlay.get(slot);
    return new SlotCursor(file, written == null ? null : written.entrySet().iterator());
  }

  /** Takes a reference; false when the tree was already closed (fetch the current one again). */
  boolean retain() {
    while (true) {
      int n = refs.get();
      if (n <= 0) {
        return false;
      }
      if (refs.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /** Drops a reference. */
  @Override
  public void close() {
    if (refs.decrementAndGet() != 0) {
      return;
    }
    if (checkpoint != null) {
      checkpoint.close();
    } else if (reader != null) {
      try {
        reader.close();
      } catch (IOException e) {
        LOG.warn("closing tree reader {} failed", reader.file(), e);
      }
    }
  }

  /** One slot's leaves: the checkpoint's merged with those written since (which win; removed ones skipped). */
  public static final class SlotCursor implements Iterator<TreeLeaf>, Closeable {
    private final Iterator<TreeLeaf> file;
    private final Iterator<Map.Entry<byte[], byte[]>> written;
    private TreeLeaf nextFile;
    private Map.Entry<byte[], byte[]> nextWritten;
    private TreeLeaf next;

    private SlotCursor(Iterator<TreeLeaf> file, Iterator<Map.Entry<byte[], byte[]>> written) {
      this.file = file;
      this.written = written;
    }

    @Override
    public boolean hasNext() {
      while (next == null) {
        if (nextFile == null && file != null && file.hasNext()) {
          nextFile = file.next();
        }
        if (nextWritten == null && written != null && written.hasNext()) {
          nextWritten = written.next();
        }
        if (nextFile == null && nextWritten == null) {
          return false;
        }
        int c = nextFile == null ? 1 : nextWritten == null ? -1
            : Arrays.compareUnsigned(nextFile.entityUtf8(), nextWritten.getKey());
        if (c < 0) {
          next = nextFile;
          nextFile = null;
        } else {
          if (c == 0) {
            nextFile = null;
          }
          byte[] sha = nextWritten.getValue();
          if (sha != LiveTree.REMOVED) {
            next = new TreeLeaf(nextWritten.getKey(), sha);
          }
          nextWritten = null;
        }
      }
      return true;
    }

    @Override
    public TreeLeaf next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      TreeLeaf l = next;
      next = null;
      return l;
    }

    @Override
    public void close() {
      // Reads are positional on the checkpoint's channel; nothing of our own to release.
    }
  }
}
