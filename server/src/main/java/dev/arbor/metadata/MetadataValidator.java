package dev.arbor.metadata;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.database.v1.Property;
import dev.arbor.api.banyandb.database.v1.TagSpec;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.property.Names;
import java.util.HashSet;
import java.util.Set;

/**
 * Validates groups and schemas before they are stored. Every message starts with the proto field
 * path at fault (e.g. {@code group.resource_opts.shard_num}).
 */
public final class MetadataValidator {
  public static final int MAX_SHARDS = 1024;
  /** Extra copies of each shard; far above any useful value, low enough that copies never overflow. */
  public static final int MAX_REPLICAS = 64;

  private final int maxTagsPerSchema;

  public MetadataValidator(int maxTagsPerSchema) {
    this.maxTagsPerSchema = maxTagsPerSchema;
  }

  public void validateGroup(Group g) {
    if (!g.hasMetadata()) {
      throw new InvalidArgumentException("group.metadata is required");
    }
    checkName("group.metadata.name", g.getMetadata().getName());
    if (g.getCatalog() != Catalog.CATALOG_PROPERTY) {
      throw new InvalidArgumentException(
          "group.catalog must be CATALOG_PROPERTY (Arbor stores properties only), got " + g.getCatalog());
    }
    if (!g.hasResourceOpts()) {
      throw new InvalidArgumentException("group.resource_opts is required (with shard_num > 0)");
    }
    // uint32 fields: values of 2^31 and above arrive as negative ints.
    long shards = Integer.toUnsignedLong(g.getResourceOpts().getShardNum());
    if (shards == 0) {
      throw new InvalidArgumentException("group.resource_opts.shard_num must be > 0");
    }
    if (shards > MAX_SHARDS) {
      throw new InvalidArgumentException("group.resource_opts.shard_num must be <= " + MAX_SHARDS + ", got " + shards);
    }
    long replicas = Integer.toUnsignedLong(g.getResourceOpts().getReplicas());
    if (replicas > MAX_REPLICAS) {
      throw new InvalidArgumentException(
          "group.resource_opts.replicas must be <= " + MAX_REPLICAS + ", got " + replicas);
    }
    if (g.getResourceOpts().hasSegmentInterval()) {
      throw new InvalidArgumentException(
          "group.resource_opts.segment_interval is not allowed for a property group");
    }
    if (g.getResourceOpts().hasTtl()) {
      throw new InvalidArgumentException("group.resource_opts.ttl is not allowed for a property group");
    }
  }

  /** Checks that an update keeps what data placement depends on. */
  public void validateGroupUpdate(Group old, Group updated) {
    validateGroup(updated);
    int before = old.getResourceOpts().getShardNum();
    int after = updated.getResourceOpts().getShardNum();
    if (before != after) {
      throw new InvalidArgumentException(
          "group.resource_opts.shard_num cannot change (" + before + " -> " + after
              + "): existing properties are placed by it");
    }
  }

  public void validateSchema(Property p) {
    if (!p.hasMetadata()) {
      throw new InvalidArgumentException("property.metadata is required");
    }
    checkName("property.metadata.group", p.getMetadata().getGroup());
    checkName("property.metadata.name", p.getMetadata().getName());
    if (p.getTagsCount() == 0) {
      throw new InvalidArgumentException("property.tags must define at least one tag");
    }
    if (p.getTagsCount() > maxTagsPerSchema) {
      throw new InvalidArgumentException(
          "property.tags: " + p.getTagsCount() + " tags exceed the limit of " + maxTagsPerSchema);
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < p.getTagsCount(); i++) {
      TagSpec t = p.getTags(i);
      final int index = i;
      Names.tagKeyProblem(t.getName()).ifPresent(problem -> {
        throw new InvalidArgumentException("property.tags[" + index + "].name " + problem);
      });
      if (t.getType() == TagType.TAG_TYPE_UNSPECIFIED || t.getType() == TagType.UNRECOGNIZED) {
        throw new InvalidArgumentException(
            "property.tags[" + i + "].type of tag '" + t.getName() + "' must be a defined TagType");
      }
      if (!seen.add(t.getName())) {
        throw new InvalidArgumentException("property.tags: tag '" + t.getName() + "' is defined twice");
      }
    }
  }

  static void checkName(String field, String value) {
    Names.nameProblem(value).ifPresent(p -> {
      throw new InvalidArgumentException(field + " " + p);
    });
  }

  /** Same rule for names outside metadata (property data requests). */
  public static void checkNameField(String field, String value) {
    checkName(field, value);
  }
}
