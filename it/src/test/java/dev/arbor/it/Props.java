package dev.arbor.it;

import com.google.protobuf.ByteString;
import com.google.protobuf.NullValue;
import com.google.protobuf.Timestamp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.skywalking.banyandb.common.v1.BanyandbCommon;
import org.apache.skywalking.banyandb.database.v1.BanyandbDatabase;
import org.apache.skywalking.banyandb.model.v1.BanyandbModel;
import org.apache.skywalking.banyandb.property.v1.BanyandbProperty;
import org.apache.skywalking.banyandb.v1.client.BanyanDBClient;
import org.apache.skywalking.banyandb.v1.client.PropertyQuery;
import org.apache.skywalking.banyandb.v1.client.grpc.exception.BanyanDBException;

/** Builders and small helpers over the official client's generated messages. */
final class Props {
  private Props() {}

  // ----- groups and schemas -----

  static BanyandbCommon.Group propertyGroup(String name, int shards) {
    return BanyandbCommon.Group.newBuilder()
        .setMetadata(BanyandbCommon.Metadata.newBuilder().setName(name))
        .setCatalog(BanyandbCommon.Catalog.CATALOG_PROPERTY)
        .setResourceOpts(BanyandbCommon.ResourceOpts.newBuilder().setShardNum(shards))
        .build();
  }

  /** A property group with {@code replicas} extra copies of each shard (cluster tests). */
  static BanyandbCommon.Group propertyGroup(String name, int shards, int replicas) {
    BanyandbCommon.Group g = propertyGroup(name, shards);
    return g.toBuilder()
        .setResourceOpts(g.getResourceOpts().toBuilder().setReplicas(replicas))
        .build();
  }

  /** A schema; {@code tags} alternates name and {@link BanyandbDatabase.TagType}. */
  static BanyandbDatabase.Property schema(String group, String name, Object... tags) {
    BanyandbDatabase.Property.Builder b =
        BanyandbDatabase.Property.newBuilder()
            .setMetadata(BanyandbCommon.Metadata.newBuilder().setGroup(group).setName(name));
    for (int i = 0; i < tags.length; i += 2) {
      b.addTags(
          BanyandbDatabase.TagSpec.newBuilder()
              .setName((String) tags[i])
              .setType((BanyandbDatabase.TagType) tags[i + 1]));
    }
    return b.build();
  }

  /** The group without the fields the server fills (revisions). */
  static BanyandbCommon.Group stripRevisions(BanyandbCommon.Group g) {
    return g.toBuilder()
        .setMetadata(g.getMetadata().toBuilder().clearCreateRevision().clearModRevision())
        .build();
  }

  /** The schema without the fields the server fills (revisions, updated_at). */
  static BanyandbDatabase.Property stripServerFields(BanyandbDatabase.Property s) {
    return s.toBuilder()
        .clearUpdatedAt()
        .setMetadata(s.getMetadata().toBuilder().clearCreateRevision().clearModRevision())
        .build();
  }

  // ----- tags -----

  static BanyandbModel.Tag str(String key, String value) {
    return tag(key, BanyandbModel.TagValue.newBuilder().setStr(BanyandbModel.Str.newBuilder().setValue(value)));
  }

  static BanyandbModel.Tag int64(String key, long value) {
    return tag(key, BanyandbModel.TagValue.newBuilder().setInt(BanyandbModel.Int.newBuilder().setValue(value)));
  }

  static BanyandbModel.Tag strArray(String key, String... values) {
    return tag(
        key,
        BanyandbModel.TagValue.newBuilder()
            .setStrArray(BanyandbModel.StrArray.newBuilder().addAllValue(Arrays.asList(values))));
  }

  static BanyandbModel.Tag intArray(String key, long... values) {
    BanyandbModel.IntArray.Builder a = BanyandbModel.IntArray.newBuilder();
    for (long v : values) {
      a.addValue(v);
    }
    return tag(key, BanyandbModel.TagValue.newBuilder().setIntArray(a));
  }

  static BanyandbModel.Tag binary(String key, byte[] value) {
    return tag(key, BanyandbModel.TagValue.newBuilder().setBinaryData(ByteString.copyFrom(value)));
  }

  static BanyandbModel.Tag timestamp(String key, long seconds, int nanos) {
    return tag(
        key,
        BanyandbModel.TagValue.newBuilder()
            .setTimestamp(Timestamp.newBuilder().setSeconds(seconds).setNanos(nanos)));
  }

  static BanyandbModel.Tag nullTag(String key) {
    return tag(key, BanyandbModel.TagValue.newBuilder().setNull(NullValue.NULL_VALUE));
  }

  private static BanyandbModel.Tag tag(String key, BanyandbModel.TagValue.Builder v) {
    return BanyandbModel.Tag.newBuilder().setKey(key).setValue(v).build();
  }

  // ----- properties -----

  static BanyandbProperty.Property property(
      String group, String name, String id, BanyandbModel.Tag... tags) {
    return BanyandbProperty.Property.newBuilder()
        .setMetadata(BanyandbCommon.Metadata.newBuilder().setGroup(group).setName(name))
        .setId(id)
        .addAllTags(Arrays.asList(tags))
        .build();
  }

  /** Query by ids (all tags), limit = ids + 10. */
  static List<BanyandbProperty.Property> byIds(
      BanyanDBClient client, String group, String name, List<String> ids)
      throws BanyanDBException {
    PropertyQuery q = new PropertyQuery(List.of(group), name, Set.of());
    q.ids(ids);
    q.setLimit(ids.size() + 10);
    return client.query(q.build()).getPropertiesList();
  }

  /** The one live property with this id, or null. Fails if the server returns several. */
  static BanyandbProperty.Property byId(
      BanyanDBClient client, String group, String name, String id) throws BanyanDBException {
    List<BanyandbProperty.Property> got = byIds(client, group, name, List.of(id));
    if (got.size() > 1) {
      throw new AssertionError("query by id " + id + " returned " + got.size() + " results: " + got);
    }
    return got.isEmpty() ? null : got.get(0);
  }

  /** id -> property; fails on duplicate ids in one response. */
  static Map<String, BanyandbProperty.Property> byIdMap(List<BanyandbProperty.Property> props) {
    Map<String, BanyandbProperty.Property> m = new LinkedHashMap<>();
    for (BanyandbProperty.Property p : props) {
      if (m.put(p.getId(), p) != null) {
        throw new AssertionError("id " + p.getId() + " returned twice in one response: " + props);
      }
    }
    return m;
  }

  static List<String> ids(List<BanyandbProperty.Property> props) {
    List<String> ids = new ArrayList<>();
    props.forEach(p -> ids.add(p.getId()));
    return ids;
  }

  static List<String> tagKeys(BanyandbProperty.Property p) {
    List<String> keys = new ArrayList<>();
    p.getTagsList().forEach(t -> keys.add(t.getKey()));
    return keys;
  }

  static BanyandbModel.TagValue tagValue(BanyandbProperty.Property p, String key) {
    for (BanyandbModel.Tag t : p.getTagsList()) {
      if (t.getKey().equals(key)) {
        return t.getValue();
      }
    }
    return null;
  }
}
