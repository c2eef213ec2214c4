package dev.arbor.cluster;

import com.google.protobuf.ByteString;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.property.ContentHash;
import dev.arbor.property.EntityKey;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.property.Names;
import dev.arbor.property.PropertyRecord;
import dev.arbor.storage.ShardWrite;
import java.util.Arrays;
import java.util.Optional;

/**
 * Converts records to and from {@code arbor.cluster.v1.StoredProperty}. Incoming records are
 * checked: the entity must parse and belong to the group, and the hash must be the content hash
 * of the bytes — a replica never stores a record whose hash would poison its repair tree.
 */
public final class StoredProperties {
  private StoredProperties() {}

  public static StoredProperty toProto(String group, int shard, PropertyRecord r) {
    return StoredProperty.newBuilder()
        .setGroup(group)
        .setShard(shard)
        .setEntity(r.key().entity())
        .setModRevision(r.modRevision())
        .setCreateRevision(r.createRevision())
        .setDeleteTime(r.deleteTime())
        .setSource(ByteString.copyFrom(r.source()))
        .setSha(ByteString.copyFrom(r.sha()))
        .build();
  }

  /** As {@link #toProto(String, int, PropertyRecord)}, saying which incarnation of the group it belongs to. */
  public static StoredProperty toProto(String group, int shard, PropertyRecord r, Optional<GroupIncarnation> incarnation) {
    StoredProperty p = toProto(group, shard, r);
    return incarnation.map(i -> p.toBuilder().setGroupIncarnation(ByteString.copyFrom(i.toBytes())).build()).orElse(p);
  }

  /**
   * The incarnation a record claims; empty from a sender that predates incarnations.
   *
   * @throws InvalidArgumentException when the field is not 16 bytes
   */
  public static Optional<GroupIncarnation> incarnationOf(StoredProperty p, String field) {
    try {
      return GroupIncarnation.ofOptionalBytes(p.getGroupIncarnation().toByteArray());
    } catch (IllegalArgumentException e) {
      throw new InvalidArgumentException(field + ".group_incarnation: " + e.getMessage());
    }
  }

  /**
   * Whether a copy a replica sent may belong to the group as {@code expected} knows it: false only
   * when both name an incarnation and they differ (the replica still holds a deleted group's data).
   */
  public static boolean sameIncarnation(StoredProperty p, Optional<GroupIncarnation> expected) {
    if (expected.isEmpty() || p.getGroupIncarnation().isEmpty()) {
      return true;
    }
    return Arrays.equals(p.getGroupIncarnation().toByteArray(), expected.get().toBytes());
  }

  /**
   * The version a copy names, for comparing versions only (a replace's pre-read): revisions,
   * delete time and sha as sent, the source as sent (empty when the copy was read version-only).
   * Never a record to store or serve: the source is not checked against the sha.
   */
  public static PropertyRecord versionOf(StoredProperty p, String field) {
    EntityKey key;
    try {
      key = EntityKey.parse(p.getEntity());
    } catch (IllegalArgumentException e) {
      throw new InvalidArgumentException(field + ".entity is not group/name/id: " + p.getEntity());
    }
    return new PropertyRecord(key, p.getModRevision(), p.getCreateRevision(), p.getDeleteTime(),
        p.getSource().toByteArray(), p.getSha().toByteArray());
  }

  /** The write a stored property asks for; {@code field} names it in errors (e.g. {@code properties[3]}). */
  public static ShardWrite fromProto(StoredProperty p, String field) {
    EntityKey key;
    try {
      key = EntityKey.parse(p.getEntity());
    } catch (IllegalArgumentException e) {
      throw new InvalidArgumentException(field + ".entity is not group/name/id: " + p.getEntity());
    }
    // The same rules as the public API: an id over the limit would pass the WAL and then be
    // refused by the index (Lucene's term limit), failing the batch and every replay of it.
    Optional<String> problem = Names.nameProblem(key.group()).map(x -> "group " + x)
        .or(() -> Names.nameProblem(key.name()).map(x -> "name " + x))
        .or(() -> Names.idProblem(key.id()).map(x -> "id " + x));
    if (problem.isPresent()) {
      throw new InvalidArgumentException(field + ".entity: " + problem.get());
    }
    if (!key.group().equals(p.getGroup())) {
      throw new InvalidArgumentException(
          field + ".entity " + p.getEntity() + " does not belong to group " + p.getGroup());
    }
    if (p.getDeleteTime() < 0) {
      throw new InvalidArgumentException(field + ".delete_time must not be negative");
    }
    byte[] source = p.getSource().toByteArray();
    byte[] sha = p.getSha().toByteArray();
    if (!Arrays.equals(sha, ContentHash.of(source, p.getDeleteTime()))) {
      throw new InvalidArgumentException(field + ".sha is not the content hash of its source and delete time");
    }
    dev.arbor.api.banyandb.property.v1.Property parsed = null;
    if (p.getDeleteTime() == 0) {
      // A live record's source is indexed tag by tag; one that does not parse would fail the whole
      // batch in the store (INTERNAL, outcome unknown) instead of being rejected on its own. The
      // parse travels with the write, so the index does not parse it again.
      try {
        parsed = dev.arbor.api.banyandb.property.v1.Property.parseFrom(source);
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new InvalidArgumentException(field + ".source is not a property: " + e.getMessage());
      }
      // The public API refuses a tag key twice; a record that has one anyway cannot be indexed.
      java.util.Set<String> keys = new java.util.HashSet<>();
      for (var t : parsed.getTagsList()) {
        if (!keys.add(t.getKey())) {
          throw new InvalidArgumentException(field + ".source has tag '" + t.getKey() + "' twice");
        }
      }
    }
    return new ShardWrite(p.getGroup(), p.getShard(),
        new PropertyRecord(key, p.getModRevision(), p.getCreateRevision(), p.getDeleteTime(), source, sha), parsed);
  }
}
