package dev.arbor.storage;

import static dev.arbor.storage.StorageTestSupport.live;
import static dev.arbor.storage.StorageTestSupport.str;
import static dev.arbor.storage.StorageTestSupport.tag;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexCommit;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.TermQuery;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ShardIndex#openCommitReader}: a reader of a snapshot reuses the searcher's open segments
 * (the files are not opened and mapped again) and still reads exactly the commit — neither writes
 * nor replacements made after it.
 */
class CommitReaderSharingTest {
  @TempDir Path dir;

  private static PropertyRecord rec(String id, long rev) {
    return live(new EntityKey("g", "n", id), rev, tag("t", str(id + "@" + rev)));
  }

  @Test
  void snapshotReaderSharesSegmentCoresAndSeesOnlyTheCommit() throws Exception {
    try (ShardIndex index = new ShardIndex("g", 0, dir)) {
      index.put(rec("a", 1));
      index.put(rec("b", 1));
      index.commit();
      index.put(rec("c", 2));
      index.commit();
      IndexCommit snap = index.snapshot();
      // After the snapshot: a replacement (deletes b's committed document) and a new key.
      index.put(rec("b", 3));
      index.put(rec("d", 3));
      index.refresh();
      try (DirectoryReader r = index.openCommitReader(snap)) {
        IndexSearcher s = index.acquireSearcher();
        try {
          Set<Object> searcherCores = new HashSet<>();
          for (LeafReaderContext l : s.getIndexReader().leaves()) {
            searcherCores.add(l.reader().getCoreCacheHelper().getKey());
          }
          assertThat(r.leaves()).isNotEmpty();
          for (LeafReaderContext l : r.leaves()) {
            assertThat(searcherCores).as("segment %s opened a second time", l.reader())
                .contains(l.reader().getCoreCacheHelper().getKey());
          }
        } finally {
          index.release(s);
        }
        IndexSearcher commitView = new IndexSearcher(r);
        assertThat(r.numDocs()).isEqualTo(3);
        assertThat(commitView.count(new TermQuery(new Term(DocumentCodec.KEY, "g/n/b")))).isEqualTo(1);
        assertThat(commitView.count(new TermQuery(new Term(DocumentCodec.KEY, "g/n/d")))).isZero();
      } finally {
        index.releaseSnapshot(snap);
      }
    }
  }
}
