package dev.arbor.repair.tree;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tree currently served for a shard: its summary and, unless it is empty, an open reader.
 * Reference counted so a rebuild can replace it while a repair session still streams its leaves;
 * the reader closes when the last holder releases it.
 */
public final class ServedTree implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ServedTree.class);
  private final TreeSummary summary;
  private final TreeFileReader reader;
  private final AtomicInteger refs = new AtomicInteger(1);

  ServedTree(TreeSummary summary, TreeFileReader reader) {
    this.summary = summary;
    this.reader = reader;
  }

  public TreeSummary summary() {
    return summary;
  }

  /** The reader, or null for an empty tree. */
  public TreeFileReader reader() {
    return reader;
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
    if (refs.decrementAndGet() == 0 && reader != null) {
      try {
        reader.close();
      } catch (IOException e) {
        LOG.warn("closing tree reader {} failed", reader.file(), e);
      }
    }
  }
}
