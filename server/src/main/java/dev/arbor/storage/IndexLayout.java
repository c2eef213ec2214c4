package dev.arbor.storage;

import dev.arbor.property.PropertyRecord;
import dev.arbor.storage.lucene.ArborCodec;
import java.io.IOException;
import java.util.Map;
import org.apache.lucene.analysis.standard.StandardAnalyzer;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.SegmentInfos;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.store.Directory;
import org.apache.lucene.util.Bits;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The on-disk layout of a shard index: which document layout ({@link DocumentCodec#LAYOUT}) its
 * commits hold, stamped in every commit's user data under {@link #KEY}, and the migration of an
 * index written by an older build. An index without the stamp is layout 1 (builds up to commit
 * 95b71fe); one stamped above this build's layout is refused rather than misread.
 *
 * <p>Migration rewrites the index in place: a writer in create mode adds every live document of
 * the old commit, re-encoded, and commits once. Until that commit the old commit stays the latest
 * (Lucene keeps its files), so a crash mid-migration leaves the old index, migrated again at the
 * next start; the write-ahead log is replayed after it either way.
 */
final class IndexLayout {
  static final String KEY = "arbor.layout";
  private static final Logger LOG = LoggerFactory.getLogger(IndexLayout.class);
  private static final int PROGRESS_EVERY = 100_000;

  private IndexLayout() {}

  /** The writer settings of every shard index; callers add their deletion policy. */
  static IndexWriterConfig writerConfig() {
    IndexWriterConfig cfg = new IndexWriterConfig(new StandardAnalyzer());
    cfg.setCodec(new ArborCodec());
    cfg.setIndexSort(ShardIndex.KEY_ORDER);
    cfg.setRAMBufferSizeMB(32);
    cfg.setCommitOnClose(false);
    return cfg;
  }

  /** Every later commit of {@code writer}, a writer of a new index, carries this build's layout. */
  static void stamp(IndexWriter writer) {
    writer.setLiveCommitData(Map.of(KEY, Integer.toString(DocumentCodec.LAYOUT)).entrySet());
  }

  /** The layout of the latest commit; 0 when there is none. */
  static int onDisk(Directory directory) throws IOException {
    if (!DirectoryReader.indexExists(directory)) {
      return 0;
    }
    String v = SegmentInfos.readLatestCommit(directory).getUserData().get(KEY);
    if (v == null) {
      return 1;
    }
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new StorageException("index commit has layout '" + v + "' (" + KEY + "), not a number");
    }
  }

  /**
   * Makes the index in {@code directory} readable by this build: migrates or refuses. Returns
   * whether the index has no commit yet (its writer must {@link #stamp} the layout; an existing
   * commit's user data is carried into later commits by Lucene).
   */
  static boolean prepare(Directory directory, String label) throws IOException {
    int layout = onDisk(directory);
    if (layout == 0) {
      return true;
    }
    if (layout == DocumentCodec.LAYOUT) {
      return false;
    }
    if (layout > DocumentCodec.LAYOUT) {
      throw new StorageException("index of " + label + " has layout " + layout + ", written by a newer build;"
          + " this build reads layouts up to " + DocumentCodec.LAYOUT + ": start the newer build");
    }
    migrateFromLayout1(directory, label);
    return false;
  }

  private static void migrateFromLayout1(Directory directory, String label) throws IOException {
    long started = System.nanoTime();
    long n = 0;
    LOG.info("index of {}: migrating from layout 1 to layout {}", label, DocumentCodec.LAYOUT);
    try (DirectoryReader old = DirectoryReader.open(directory)) {
      IndexWriterConfig cfg = writerConfig().setOpenMode(IndexWriterConfig.OpenMode.CREATE);
      try (IndexWriter w = new IndexWriter(directory, cfg)) {
        for (LeafReaderContext leaf : old.leaves()) {
          StoredFields stored = leaf.reader().storedFields();
          Bits live = leaf.reader().getLiveDocs();
          for (int d = 0; d < leaf.reader().maxDoc(); d++) {
            if (live != null && !live.get(d)) {
              continue;
            }
            PropertyRecord r = LegacyDocuments.fromStored(stored, d);
            w.addDocument(DocumentCodec.toDocument(r));
            if (++n % PROGRESS_EVERY == 0) {
              LOG.info("index of {}: migrated {} of {} documents", label, n, old.numDocs());
            }
          }
        }
        stamp(w);
        w.commit();
      }
    }
    LOG.info("index of {}: migrated {} documents to layout {} in {} ms", label, n, DocumentCodec.LAYOUT,
        (System.nanoTime() - started) / 1_000_000);
  }
}
