package dev.arbor.repair.tree;

import dev.arbor.storage.DocumentCodec;
import java.io.Closeable;
import java.io.IOException;
import java.util.Arrays;
import java.util.PriorityQueue;
import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.DocValues;
import org.apache.lucene.index.IndexCommit;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.SortedDocValues;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.BytesRef;

/**
 * Streams (entity, sha) of every document of a commit point in ascending entity order, reading
 * only doc values (the sort key and the stored hash — never the property source). Each segment
 * is already sorted by key (the index sort), so this is a k-way merge with one cursor per
 * segment: memory depends on the segment count, not on the number of properties. One document
 * per key is live in a commit, tombstones included.
 */
public final class SnapshotLeafScanner implements Closeable {
  private final DirectoryReader reader;
  private final PriorityQueue<SegmentCursor> queue =
      new PriorityQueue<>((a, b) -> Arrays.compareUnsigned(a.key, b.key));

  public SnapshotLeafScanner(IndexCommit commit) throws IOException {
    this(DirectoryReader.open(commit));
  }

  /** Scans {@code reader}, which this scanner closes. */
  public SnapshotLeafScanner(DirectoryReader reader) throws IOException {
    this.reader = reader;
    for (LeafReaderContext ctx : reader.leaves()) {
      SegmentCursor c = new SegmentCursor(ctx);
      if (c.advance()) {
        queue.add(c);
      }
    }
  }

  /** The next leaf, or null at the end. */
  public TreeLeaf next() throws IOException {
    SegmentCursor c = queue.poll();
    if (c == null) {
      return null;
    }
    TreeLeaf leaf = new TreeLeaf(c.key, c.sha);
    if (c.advance()) {
      queue.add(c);
    }
    return leaf;
  }

  @Override
  public void close() throws IOException {
    reader.close();
  }

  private static final class SegmentCursor {
    private final SortedDocValues keys;
    private final BinaryDocValues shas;
    private final Bits live;
    private byte[] key;
    private byte[] sha;

    SegmentCursor(LeafReaderContext ctx) throws IOException {
      this.keys = DocValues.getSorted(ctx.reader(), DocumentCodec.KEY);
      this.shas = DocValues.getBinary(ctx.reader(), DocumentCodec.SHA);
      this.live = ctx.reader().getLiveDocs();
    }

    boolean advance() throws IOException {
      int doc;
      do {
        doc = keys.nextDoc();
        if (doc == DocIdSetIterator.NO_MORE_DOCS) {
          return false;
        }
      } while (live != null && !live.get(doc));
      key = BytesRef.deepCopyOf(keys.lookupOrd(keys.ordValue())).bytes;
      if (!shas.advanceExact(doc)) {
        throw new IOException("document without a content hash in the index");
      }
      sha = BytesRef.deepCopyOf(shas.binaryValue()).bytes;
      return true;
    }
  }
}
