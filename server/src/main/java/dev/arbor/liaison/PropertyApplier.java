package dev.arbor.liaison;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.property.v1.ApplyRequest;
import dev.arbor.api.banyandb.property.v1.ApplyResponse;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.metadata.SchemaLookup;
import dev.arbor.property.EntityKey;
import dev.arbor.property.HybridClock;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ProtoTime;
import dev.arbor.property.ShardRouter;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.StorageException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Apply (spec §2.1, with our fixes): validate, then atomically per key read the latest version,
 * merge or replace the tags, stamp a version above every earlier one of the key, and store the
 * canonical bytes durably. {@code created} means there was no live previous version.
 */
final class PropertyApplier {
  private final SchemaLookup lookup;
  private final PropertyRequestValidator validator;
  private final PropertyStore store;
  private final HybridClock clock;
  private final int maxPropertyBytes;

  PropertyApplier(
      SchemaLookup lookup, PropertyRequestValidator validator, PropertyStore store, HybridClock clock,
      int maxPropertyBytes) {
    this.lookup = lookup;
    this.validator = validator;
    this.store = store;
    this.clock = clock;
    this.maxPropertyBytes = maxPropertyBytes;
  }

  ApplyResponse apply(ApplyRequest req) {
    if (!req.hasProperty()) {
      throw new InvalidArgumentException("property is required");
    }
    Property p = req.getProperty();
    validator.checkShape(p);
    String groupName = p.getMetadata().getGroup();
    Group group = lookup.propertyGroup(groupName, "property.metadata.group");
    var schema = lookup.schema(groupName, p.getMetadata().getName());
    validator.checkTags(p.getTagsList(), schema);
    boolean replace = req.getStrategy() == ApplyRequest.Strategy.STRATEGY_REPLACE;
    if (req.getStrategy() == ApplyRequest.Strategy.UNRECOGNIZED) {
      throw new InvalidArgumentException("strategy must be a defined ApplyRequest.Strategy");
    }
    EntityKey key = new EntityKey(groupName, p.getMetadata().getName(), p.getId());
    int shard = ShardRouter.shardOf(key, group.getResourceOpts().getShardNum());
    return store.update(
        groupName,
        shard,
        key,
        prev -> {
          PropertyRecord livePrev = prev != null && !prev.deleted() ? prev : null;
          List<Tag> tags =
              replace || livePrev == null ? p.getTagsList() : merge(p.getTagsList(), livePrev, schema);
          long rev = clock.next(prev == null ? Long.MIN_VALUE + 1 : prev.modRevision());
          long createRev = livePrev != null ? livePrev.createRevision() : rev;
          Property stored =
              Property.newBuilder()
                  .setMetadata(
                      Metadata.newBuilder()
                          .setGroup(groupName)
                          .setName(key.name())
                          .setCreateRevision(createRev)
                          .setModRevision(rev))
                  .setId(key.id())
                  .addAllTags(tags)
                  .setUpdatedAt(ProtoTime.ofNanos(rev))
                  .build();
          byte[] source = stored.toByteArray();
          if (source.length > maxPropertyBytes) {
            throw new InvalidArgumentException(
                "property is " + source.length + " bytes, over the limit of " + maxPropertyBytes + " bytes");
          }
          PropertyRecord next = PropertyRecord.live(key, rev, createRev, source);
          ApplyResponse resp =
              ApplyResponse.newBuilder().setCreated(livePrev == null).setTagsNum(tags.size()).build();
          return new PropertyStore.KeyUpdate<ApplyResponse>() {
            @Override
            public PropertyRecord next() {
              return next;
            }

            @Override
            public ApplyResponse result() {
              return resp;
            }
          };
        });
  }

  /**
   * Sent tags first, then the previous tags not re-sent, in their stored order. Previous tags
   * that the current schema no longer accepts are dropped (the schema may have changed).
   */
  private static List<Tag> merge(
      List<Tag> sent, PropertyRecord prev, dev.arbor.api.banyandb.database.v1.Property schema) {
    Property old;
    try {
      old = Property.parseFrom(prev.source());
    } catch (InvalidProtocolBufferException e) {
      throw new StorageException("stored property " + prev.key() + " is unreadable", e);
    }
    Set<String> sentKeys = new HashSet<>();
    sent.forEach(t -> sentKeys.add(t.getKey()));
    List<Tag> out = new ArrayList<>(sent);
    for (Tag t : old.getTagsList()) {
      TagType type = SchemaLookup.typeIn(schema, t.getKey());
      if (!sentKeys.contains(t.getKey()) && type != null && PropertyRequestValidator.matches(type, t.getValue())) {
        out.add(t);
      }
    }
    return out;
  }
}
