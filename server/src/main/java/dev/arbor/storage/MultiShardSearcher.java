package dev.arbor.storage;

import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.property.PropertyRecord;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.TopFieldDocs;

/** Runs per-shard searches with one sort and merges their top hits into one ordered list. */
public final class MultiShardSearcher {
  private MultiShardSearcher() {}

  /** The caller's query is too large for Lucene: the caller's mistake, not a storage failure. */
  static InvalidArgumentException tooManyClauses(IndexSearcher.TooManyClauses e) {
    return new InvalidArgumentException("criteria: the query needs more than " + IndexSearcher.getMaxClauseCount()
        + " clauses (ids and conditions together); split it into smaller queries", e);
  }

  public static List<PropertyRecord> search(List<ShardSearch> searches, int limit, Sort sort) {
    Sort effective = sort == null ? ShardIndex.KEY_ORDER : sort;
    int n = Math.max(1, limit);
    List<IndexSearcher> acquired = new ArrayList<>(searches.size());
    try {
      TopFieldDocs[] hits = new TopFieldDocs[searches.size()];
      for (int i = 0; i < searches.size(); i++) {
        IndexSearcher s = searches.get(i).shard().acquireSearcher();
        acquired.add(s);
        hits[i] = s.search(searches.get(i).query(), n, effective);
        for (ScoreDoc sd : hits[i].scoreDocs) {
          sd.shardIndex = i;
        }
      }
      TopDocs merged = TopDocs.merge(effective, n, hits);
      List<PropertyRecord> out = new ArrayList<>(merged.scoreDocs.length);
      for (ScoreDoc sd : merged.scoreDocs) {
        out.add(DocumentCodec.fromStored(acquired.get(sd.shardIndex).storedFields(), sd.doc));
      }
      return out;
    } catch (IndexSearcher.TooManyClauses e) {
      throw tooManyClauses(e);
    } catch (IOException e) {
      throw new StorageException("search failed: " + e.getMessage(), e);
    } finally {
      for (int i = 0; i < acquired.size(); i++) {
        try {
          searches.get(i).shard().release(acquired.get(i));
        } catch (IOException e) {
          // releasing a reader only decrements a count; nothing useful to do on failure
        }
      }
    }
  }
}
