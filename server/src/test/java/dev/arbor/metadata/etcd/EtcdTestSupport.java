package dev.arbor.metadata.etcd;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.database.v1.Property;
import dev.arbor.api.banyandb.database.v1.TagSpec;
import dev.arbor.api.banyandb.database.v1.TagType;
import java.util.concurrent.atomic.AtomicInteger;

final class EtcdTestSupport {
  private static final AtomicInteger SEQ = new AtomicInteger();

  private EtcdTestSupport() {}

  /** A fresh key prefix, so tests sharing one etcd never see each other's keys. */
  static String uniquePrefix(String test) {
    return "/arbor-test/" + test + "-" + SEQ.incrementAndGet() + "-" + System.nanoTime() + "/";
  }

  static Group group(String name, int shards) {
    return Group.newBuilder()
        .setMetadata(Metadata.newBuilder().setName(name))
        .setCatalog(Catalog.CATALOG_PROPERTY)
        .setResourceOpts(ResourceOpts.newBuilder().setShardNum(shards).setReplicas(1))
        .build();
  }

  static Property schema(String group, String name, String... tags) {
    Property.Builder b =
        Property.newBuilder().setMetadata(Metadata.newBuilder().setGroup(group).setName(name));
    for (String t : tags) {
      b.addTags(TagSpec.newBuilder().setName(t).setType(TagType.TAG_TYPE_STRING));
    }
    return b.build();
  }
}
