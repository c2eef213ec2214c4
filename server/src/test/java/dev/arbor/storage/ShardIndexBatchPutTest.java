package dev.arbor.storage;

import static dev.arbor.storage.StorageTestSupport.live;
import static dev.arbor.storage.StorageTestSupport.str;
import static dev.arbor.storage.StorageTestSupport.tag;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.TermQuery;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ShardIndex#putAll}: a batch stored with one add and one replace call leaves exactly one
 * document per key, the batch's version, before and after a commit and reopen.
 */
class ShardIndexBatchPutTest {
  @TempDir Path dir;

  private static PropertyRecord rec(String id, long rev) {
    return live(new EntityKey("g", "n", id), rev, tag("t", str(id + "@" + rev)));
  }

  private static void putAll(ShardIndex index, List<PropertyRecord> rs, List<Boolean> absent) throws Exception {
    List<org.apache.lucene.document.Document> docs = new ArrayList<>();
    for (PropertyRecord r : rs) {
      docs.add(DocumentCodec.toDocument(r));
    }
    index.putAll(rs, docs, absent);
  }

  @Test
  void mixedBatchOfNewAndReplacedKeysKeepsOneDocumentPerKey() throws Exception {
    try (ShardIndex index = new ShardIndex("g", 0, dir)) {
      putAll(index, List.of(rec("a", 1), rec("b", 1), rec("c", 1)), List.of(true, true, true));
      index.commit(); // the first versions in a committed segment, the replacements in RAM
      putAll(index, List.of(rec("a", 2), rec("d", 1), rec("c", 2), rec("e", 1)), List.of(false, true, false, true));
      // and a second replace of a key whose current version is still in RAM
      putAll(index, List.of(rec("a", 3), rec("b", 2)), List.of(false, false));
      assertOnlyLatest(index);
      index.commit();
    }
    try (ShardIndex reopened = new ShardIndex("g", 0, dir)) {
      assertOnlyLatest(reopened);
    }
  }

  @Test
  void aBatchNamingAKeyTwiceStoresItsLastDocumentOnly() throws Exception {
    try (ShardIndex index = new ShardIndex("g", 0, dir)) {
      putAll(index, List.of(rec("a", 1), rec("x", 1)), List.of(true, true));
      // Callers that pass one key twice (updateBatch with a repeated key) get per-document semantics.
      putAll(index, List.of(rec("a", 2), rec("x", 2), rec("a", 3)), List.of(false, false, false));
      index.refresh();
      IndexSearcher s = index.acquireSearcher();
      try {
        assertThat(s.count(new TermQuery(new Term(DocumentCodec.KEY, "g/n/a")))).isEqualTo(1);
        assertThat(s.count(new MatchAllDocsQuery())).isEqualTo(2);
      } finally {
        index.release(s);
      }
      assertThat(index.latest("g/n/a")).isEqualTo(rec("a", 3));
    }
  }

  private static void assertOnlyLatest(ShardIndex index) throws Exception {
    index.refresh();
    IndexSearcher s = index.acquireSearcher();
    try {
      assertThat(s.count(new MatchAllDocsQuery())).isEqualTo(5);
      for (String id : List.of("a", "b", "c", "d", "e")) {
        assertThat(s.count(new TermQuery(new Term(DocumentCodec.KEY, "g/n/" + id)))).as(id).isEqualTo(1);
      }
    } finally {
      index.release(s);
    }
    assertThat(index.latestAll(List.of("g/n/a", "g/n/b", "g/n/c", "g/n/d", "g/n/e")))
        .containsExactly(rec("a", 3), rec("b", 2), rec("c", 2), rec("d", 1), rec("e", 1));
  }
}
