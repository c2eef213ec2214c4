package dev.arbor.bench.cluster;

import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.property.EntityKey;
import dev.arbor.property.ProtoTime;
import java.util.List;

/**
 * The bytes a liaison stores for a version of a property, for benchmarks that write records
 * straight to data nodes (the repair benchmark's {@code --load internal}, the API benchmark's
 * disagreeing replicas).
 */
public final class LiaisonRecords {
  private LiaisonRecords() {}

  /**
   * The canonical source the liaison's apply stores: metadata group/name/create/mod revision, id,
   * tags, updated_at = the revision.
   */
  public static byte[] encode(EntityKey key, long rev, long createRev, List<Tag> tags) {
    return Property.newBuilder()
        .setMetadata(Metadata.newBuilder()
            .setGroup(key.group())
            .setName(key.name())
            .setCreateRevision(createRev)
            .setModRevision(rev))
        .setId(key.id())
        .addAllTags(tags)
        .setUpdatedAt(ProtoTime.ofNanos(rev))
        .build()
        .toByteArray();
  }
}
