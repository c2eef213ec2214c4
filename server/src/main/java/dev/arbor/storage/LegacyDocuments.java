package dev.arbor.storage;

import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import java.io.IOException;
import org.apache.lucene.document.Document;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.util.BytesRef;

/**
 * Reads documents of index layout 1 (builds up to 0.1.0 / commit 95b71fe: one stored field per
 * record part, source stored beside indexed copies of every tag), for {@link LayoutMigration} only.
 */
final class LegacyDocuments {
  private LegacyDocuments() {}

  static PropertyRecord fromStored(StoredFields stored, int docId) throws IOException {
    Document d = stored.document(docId);
    if (d.get("_key") == null || d.getField("_rev") == null || d.getBinaryValue("_src") == null
        || d.getBinaryValue("_sha") == null) {
      throw new StorageException("layout-1 document " + docId + " lacks one of _key, _rev, _src, _sha");
    }
    return new PropertyRecord(
        EntityKey.parse(d.get("_key")),
        d.getField("_rev").numericValue().longValue(),
        d.getField("_crev").numericValue().longValue(),
        d.getField("_del").numericValue().longValue(),
        copy(d.getBinaryValue("_src")),
        copy(d.getBinaryValue("_sha")));
  }

  private static byte[] copy(BytesRef b) {
    byte[] out = new byte[b.length];
    System.arraycopy(b.bytes, b.offset, out, 0, b.length);
    return out;
  }
}
