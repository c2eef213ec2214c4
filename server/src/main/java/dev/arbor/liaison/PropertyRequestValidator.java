package dev.arbor.liaison;

import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.metadata.MetadataValidator;
import dev.arbor.metadata.SchemaLookup;
import dev.arbor.property.Names;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks a property against its request shape and its schema (spec §1.2): required key fields,
 * group and name of the {@link Names} character set, id and tag keys within their length limits, at least one tag, no more tags than the schema or the limit,
 * every tag known, every value of the schema's type (null is accepted for any type).
 */
final class PropertyRequestValidator {
  private final int maxTagsPerProperty;

  PropertyRequestValidator(int maxTagsPerProperty) {
    this.maxTagsPerProperty = maxTagsPerProperty;
  }

  void checkShape(Property p) {
    if (!p.hasMetadata()) {
      throw new InvalidArgumentException("property.metadata is required (group and name)");
    }
    MetadataValidator.checkNameField("property.metadata.group", p.getMetadata().getGroup());
    MetadataValidator.checkNameField("property.metadata.name", p.getMetadata().getName());
    Names.idProblem(p.getId()).ifPresent(problem -> {
      throw new InvalidArgumentException("property.id " + problem);
    });
    if (p.getTagsCount() == 0) {
      throw new InvalidArgumentException("property.tags must hold at least one tag");
    }
    if (p.getTagsCount() > maxTagsPerProperty) {
      throw new InvalidArgumentException(
          "property.tags: " + p.getTagsCount() + " tags exceed the limit of " + maxTagsPerProperty);
    }
  }

  void checkTags(List<Tag> tags, dev.arbor.api.banyandb.database.v1.Property schema) {
    if (tags.size() > schema.getTagsCount()) {
      throw new InvalidArgumentException(
          "property.tags: " + tags.size() + " tags but schema " + schema.getMetadata().getName()
              + " defines " + schema.getTagsCount());
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < tags.size(); i++) {
      Tag t = tags.get(i);
      final int index = i;
      Names.tagKeyProblem(t.getKey()).ifPresent(problem -> {
        throw new InvalidArgumentException("property.tags[" + index + "].key " + problem);
      });
      if (!seen.add(t.getKey())) {
        throw new InvalidArgumentException("property.tags[" + i + "]: tag '" + t.getKey() + "' appears twice");
      }
      TagType type = SchemaLookup.typeIn(schema, t.getKey());
      if (type == null) {
        throw new InvalidArgumentException(
            "property.tags[" + i + "]: tag '" + t.getKey() + "' not found in schema "
                + schema.getMetadata().getName());
      }
      if (!matches(type, t.getValue())) {
        throw new InvalidArgumentException(
            "property.tags[" + i + "]: tag '" + t.getKey() + "' must be " + type + ", got "
                + describe(t.getValue()));
      }
    }
  }

  /** Whether a value fits a schema type; null and unset fit any type. */
  static boolean matches(TagType type, TagValue v) {
    return switch (v.getValueCase()) {
      case NULL, VALUE_NOT_SET -> true;
      case STR -> type == TagType.TAG_TYPE_STRING;
      case STR_ARRAY -> type == TagType.TAG_TYPE_STRING_ARRAY;
      case INT -> type == TagType.TAG_TYPE_INT;
      case INT_ARRAY -> type == TagType.TAG_TYPE_INT_ARRAY;
      case BINARY_DATA -> type == TagType.TAG_TYPE_DATA_BINARY;
      case TIMESTAMP -> type == TagType.TAG_TYPE_TIMESTAMP;
    };
  }

  private static String describe(TagValue v) {
    return v.getValueCase().name().toLowerCase();
  }
}
