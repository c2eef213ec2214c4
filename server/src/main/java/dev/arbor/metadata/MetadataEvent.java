package dev.arbor.metadata;

import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.database.v1.Property;
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
 */
public record MetadataEvent(
    Type type, String groupName, String schemaName, Group group, Property schema) {

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
