package dev.arbor.storage;

import java.io.IOException;
import java.util.function.Predicate;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.Terms;
import org.apache.lucene.index.TermsEnum;
import org.apache.lucene.store.Directory;
import org.apache.lucene.util.BytesRef;

/**
 * The keys of a commit read from the key terms alone (no stored field is decoded): how a bulk
 * transfer checks, on both sides, that every document it moves belongs to the shard — the check
 * a record session makes per record. Terms of deleted documents are included, so the check errs
 * on the side of refusing.
 */
final class CommitKeys {
  private CommitKeys() {}

  /** The first key of the directory's latest commit that {@code belongs} rejects, or null. */
  static String firstNotMatching(Directory dir, Predicate<String> belongs) throws IOException {
    try (DirectoryReader r = DirectoryReader.open(dir)) {
      return firstNotMatching(r, belongs);
    }
  }

  /** The first key {@code r} holds that {@code belongs} rejects, or null. */
  static String firstNotMatching(DirectoryReader r, Predicate<String> belongs) throws IOException {
    for (LeafReaderContext leaf : r.leaves()) {
      Terms terms = leaf.reader().terms(DocumentCodec.KEY);
      if (terms == null) {
        continue;
      }
      TermsEnum te = terms.iterator();
      for (BytesRef t = te.next(); t != null; t = te.next()) {
        String key = t.utf8ToString();
        if (!belongs.test(key)) {
          return key;
        }
      }
    }
    return null;
  }
}
