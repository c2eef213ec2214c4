package dev.arbor.storage;

import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.property.PropertyRecord;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.lucene.search.FieldDoc;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.TopFieldDocs;

/**
 * Runs per-shard searches with one sort and merges their hits into one ordered stream. Records
 * are loaded one at a time as the caller takes them, so a caller that stops early (a byte budget)
 * never materialises the rest.
 */
public final class MultiShardSearcher {
  /** Hits ranked per round when the caller pages: a small page costs a small search. */
  private static final int FIRST_ROUND = 1024;

  private MultiShardSearcher() {}

  /** Takes records in order; answers false when it takes no more (the record offered was not taken). */
  @FunctionalInterface
  public interface HitSink {
    boolean offer(PropertyRecord r);
  }

  /**
   * Where a visit ended.
   *
   * @param last the sort values of the last record taken (Lucene's, one per sort field), null when
   *     none was taken
   * @param more true when more records match after {@code last}
   */
  public record VisitEnd(Object[] last, boolean more) {}

  /** The caller's query is too large for Lucene: the caller's mistake, not a storage failure. */
  static InvalidArgumentException tooManyClauses(IndexSearcher.TooManyClauses e) {
    return new InvalidArgumentException("criteria: the query needs more than " + IndexSearcher.getMaxClauseCount()
        + " clauses (ids and conditions together); split it into smaller queries", e);
  }

  /** At most {@code limit} matches in {@code sort} order (entity key when null). */
  public static List<PropertyRecord> search(List<ShardSearch> searches, int limit, Sort sort) {
    return search(searches, limit, sort, null);
  }

  /** As {@link #search(List, int, Sort)}, recording each shard's share in {@code stats} (null: none). */
  public static List<PropertyRecord> search(List<ShardSearch> searches, int limit, Sort sort, ShardSearchStats stats) {
    List<PropertyRecord> out = new ArrayList<>();
    visit(searches, Math.max(1, limit), sort, null, Math.max(1, limit), out::add, stats);
    return out;
  }

  /**
   * Offers {@code sink} the matches strictly after the record with the sort values {@code after}
   * (null: from the first) in
   * {@code sort} order (entity key when null), at most {@code limit}, until it declines one. The
   * sort must end with the entity key: the order is then total, so "strictly after" skips exactly
   * the records already seen. All rounds use one point-in-time view of every shard.
   */
  public static VisitEnd visit(List<ShardSearch> searches, int limit, Sort sort, Object[] after, HitSink sink) {
    return visit(searches, limit, sort, after, sink, null);
  }

  /** As {@link #visit(List, int, Sort, Object[], HitSink)}, recording each shard's share in {@code stats} (null: none). */
  public static VisitEnd visit(List<ShardSearch> searches, int limit, Sort sort, Object[] after, HitSink sink,
      ShardSearchStats stats) {
    return visit(searches, limit, sort, after, Math.min(limit, FIRST_ROUND), sink, stats);
  }

  private static VisitEnd visit(List<ShardSearch> searches, int limit, Sort sort, Object[] after, int firstRound,
      HitSink sink, ShardSearchStats stats) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be >= 1: " + limit);
    }
    Sort effective = sort == null ? ShardIndex.KEY_ORDER : sort;
    List<IndexSearcher> acquired = new ArrayList<>(searches.size());
    if (stats != null) {
      stats.begin(searches);
    }
    try {
      for (ShardSearch s : searches) {
        acquired.add(s.shard().acquireSearcher());
      }
      Object[] cursor = after;
      Object[] last = null;
      int taken = 0;
      int round = Math.max(1, firstRound);
      while (true) {
        int want = Math.min(limit - taken, round);
        // One more than wanted tells whether anything follows the round.
        int n = want + 1;
        TopFieldDocs[] hits = new TopFieldDocs[searches.size()];
        for (int i = 0; i < searches.size(); i++) {
          IndexSearcher s = acquired.get(i);
          long t0 = stats == null ? 0 : System.nanoTime();
          hits[i] = s.searchAfter(cursor == null ? null : after(cursor, s), searches.get(i).query(), n, effective, false);
          if (stats != null) {
            stats.searched(i, t0, System.nanoTime(), hits[i].totalHits.value,
                hits[i].totalHits.relation == org.apache.lucene.search.TotalHits.Relation.GREATER_THAN_OR_EQUAL_TO);
          }
          for (ScoreDoc sd : hits[i].scoreDocs) {
            sd.shardIndex = i;
          }
        }
        ScoreDoc[] merged = TopDocs.merge(effective, n, hits).scoreDocs;
        for (int i = 0; i < Math.min(merged.length, want); i++) {
          ScoreDoc sd = merged[i];
          long t0 = stats == null ? 0 : System.nanoTime();
          PropertyRecord r = DocumentCodec.fromStored(acquired.get(sd.shardIndex).storedFields(), sd.doc);
          if (stats != null) {
            stats.loaded(sd.shardIndex, t0, System.nanoTime());
          }
          if (!sink.offer(r)) {
            return new VisitEnd(last, true);
          }
          if (stats != null) {
            stats.taken(sd.shardIndex);
          }
          last = ((FieldDoc) sd).fields;
          taken++;
        }
        if (merged.length <= want) {
          return new VisitEnd(last, false);
        }
        if (taken >= limit) {
          return new VisitEnd(last, true);
        }
        cursor = last;
        round = (int) Math.min(Integer.MAX_VALUE - 1L, 4L * round);
      }
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

  /**
   * The position in {@code s} strictly after a record with these sort values. Lucene admits a hit
   * equal on every sort field only when its doc id is above the position's: the searcher's last id
   * admits none (and the entity key, the last sort field, makes real ties impossible anyway).
   */
  private static FieldDoc after(Object[] sortValues, IndexSearcher s) {
    return new FieldDoc(Math.max(0, s.getIndexReader().maxDoc() - 1), Float.NaN, sortValues);
  }
}
