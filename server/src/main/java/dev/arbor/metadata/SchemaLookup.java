package dev.arbor.metadata;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.database.v1.Property;
import dev.arbor.api.banyandb.database.v1.TagSpec;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.errors.NotFoundException;
import dev.arbor.property.GroupIncarnation;
import java.util.Optional;

/** Finds groups and schemas for data requests, with the errors the client expects. */
public final class SchemaLookup {
  private final MetadataStore metadata;

  public SchemaLookup(MetadataStore metadata) {
    this.metadata = metadata;
  }

  /** The property group, or NOT_FOUND; INVALID_ARGUMENT naming {@code field} for other catalogs. */
  public Group propertyGroup(String name, String field) {
    Group g = metadata.group(name).orElseThrow(() -> new NotFoundException("group " + name + " not found"));
    if (g.getCatalog() != Catalog.CATALOG_PROPERTY) {
      throw new InvalidArgumentException(field + ": group " + name + " is not a property group");
    }
    return g;
  }

  /** The group's incarnation as this node's metadata knows it (empty: unknown group, or none assigned yet). */
  public Optional<GroupIncarnation> incarnation(String group) {
    return metadata.incarnation(group);
  }

  public Property schema(String group, String name) {
    return metadata
        .schema(group, name)
        .orElseThrow(() -> new NotFoundException("property schema " + group + "/" + name + " not found"));
  }

  public Optional<Property> findSchema(String group, String name) {
    return metadata.schema(group, name);
  }

  /**
   * Type of a tag in a group: from the named schema when there is one, otherwise from the first
   * schema of the group that defines it; null when none does.
   */
  public TagType tagType(String group, String schemaName, String tag) {
    if (!schemaName.isEmpty()) {
      return metadata.schema(group, schemaName).map(s -> typeIn(s, tag)).orElse(null);
    }
    for (Property s : metadata.schemas(group)) {
      TagType t = typeIn(s, tag);
      if (t != null) {
        return t;
      }
    }
    return null;
  }

  public static TagType typeIn(Property schema, String tag) {
    for (TagSpec spec : schema.getTagsList()) {
      if (spec.getName().equals(tag)) {
        return spec.getType();
      }
    }
    return null;
  }
}
