package dev.arbor.storage;

import dev.arbor.property.PropertyRecord;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.apache.lucene.document.Document;

/**
 * The part of a durable batch that goes to one shard index, stored with one index-writer call
 * per kind of write ({@link ShardIndex#putAll}); records keep their batch order.
 */
record IndexBatch(ShardIndex target, List<PropertyRecord> records, List<Document> docs, List<Boolean> absent) {

  /** Splits a batch (aligned lists) by target shard, in order of each shard's first write. */
  static List<IndexBatch> byShard(List<ShardIndex> targets, List<ShardWrite> writes, List<Document> docs,
      List<Boolean> absent) {
    Map<ShardIndex, IndexBatch> out = new IdentityHashMap<>();
    List<IndexBatch> ordered = new ArrayList<>();
    for (int i = 0; i < writes.size(); i++) {
      IndexBatch b = out.get(targets.get(i));
      if (b == null) {
        b = new IndexBatch(targets.get(i), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        out.put(targets.get(i), b);
        ordered.add(b);
      }
      b.records().add(writes.get(i).record());
      b.docs().add(docs.get(i));
      b.absent().add(absent.get(i));
    }
    return ordered;
  }
}
