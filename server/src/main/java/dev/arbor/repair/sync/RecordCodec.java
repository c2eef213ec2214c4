package dev.arbor.repair.sync;

import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.property.PropertyRecord;
import dev.arbor.storage.ShardWrite;

/** Checks records received in a session: they must parse, hash correctly and belong to the shard. */
final class RecordCodec {
  private RecordCodec() {}

  static StoredProperty toProto(String group, int shard, PropertyRecord r) {
    return StoredProperties.toProto(group, shard, r);
  }

  /** The write, or null (and the reason counted by the caller) when the record is unusable. */
  static ShardWrite check(StoredProperty p, String group, int shard) {
    if (!p.getGroup().equals(group) || p.getShard() != shard) {
      return null;
    }
    try {
      return StoredProperties.fromProto(p, "record");
    } catch (InvalidArgumentException e) {
      return null;
    }
  }
}
