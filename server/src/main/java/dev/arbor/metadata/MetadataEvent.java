package dev.arbor.metadata;

import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.database.v1.Property;
import dev.arbor.property.GroupIncarnation;
import java.util.Objects;
import java.util.Optional;

/**
 * A change of cluster metadata seen by one metadata store, whoever made it. For
 * deletions the value is the last one this store knew. A group deletion is followed by one
 * {@code SCHEMA_DELETED} per schema it held.
 *
 * @param type what happened
 * @param groupName the group concerned (also set for schema events)
 * @param schemaName the schema name; empty for group events
 * @param group the group (new value, or last known value on deletion); null for schema events
 * @param schema the schema (new value, or last known value on deletion); null for group events
 * @param deletedIncarnation for a {@code GROUP_DELETED} that is an observed delete (a delete this
 *     store made or a watch delivered), the incarnation deleted; null when the group merely
 *     vanished (a re-list after a watch failure, etcd gone back in time) or its incarnation is
 *     unknown. Only an observed delete of a known incarnation may delete data.
 */
public record MetadataEvent(
    Type type, String groupName, String schemaName, Group group, Property schema,
    GroupIncarnation deletedIncarnation) {

  public enum Type {
    GROUP_CREATED,
    GROUP_UPDATED,
    GROUP_DELETED,
    SCHEMA_CREATED,
    SCHEMA_UPDATED,
    SCHEMA_DELETED;

    public boolean isGroupEvent() {
      return this == GROUP_CREATED || this == GROUP_UPDATED || this == GROUP_DELETED;
    }
  }

  public MetadataEvent {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(groupName, "groupName");
    schemaName = schemaName == null ? "" : schemaName;
  }

  public MetadataEvent(Type type, String groupName, String schemaName, Group group, Property schema) {
    this(type, groupName, schemaName, group, schema, null);
  }

  /** An observed delete of incarnation {@code incarnation} (null when unknown) of the group. */
  public static MetadataEvent ofGroupDeleted(Group before, GroupIncarnation incarnation) {
    return new MetadataEvent(Type.GROUP_DELETED, before.getMetadata().getName(), "", before, null, incarnation);
  }

  /** The deleted incarnation, when this is an observed delete of a known incarnation. */
  public Optional<GroupIncarnation> observedDeleteOf() {
    return type == Type.GROUP_DELETED ? Optional.ofNullable(deletedIncarnation) : Optional.empty();
  }

  public static MetadataEvent ofGroup(Group before, Group after) {
    Group g = after != null ? after : before;
    Type t = before == null ? Type.GROUP_CREATED : after == null ? Type.GROUP_DELETED : Type.GROUP_UPDATED;
    return new MetadataEvent(t, g.getMetadata().getName(), "", g, null);
  }

  public static MetadataEvent ofSchema(Property before, Property after) {
    Property p = after != null ? after : before;
    Type t =
        before == null ? Type.SCHEMA_CREATED : after == null ? Type.SCHEMA_DELETED : Type.SCHEMA_UPDATED;
    return new MetadataEvent(t, p.getMetadata().getGroup(), p.getMetadata().getName(), null, p);
  }

  public Optional<Group> groupValue() {
    return Optional.ofNullable(group);
  }

  public Optional<Property> schemaValue() {
    return Optional.ofNullable(schema);
  }
}
