package dev.arbor.liaison;

import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.property.v1.ApplyRequest;
import dev.arbor.api.banyandb.property.v1.ApplyResponse;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.metadata.SchemaLookup;
import dev.arbor.property.EntityKey;
import dev.arbor.property.HybridClock;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import dev.arbor.storage.PropertyStore;

/**
 * Apply on the local store (standalone): validate, then atomically per key read the latest
 * version, let the {@link ApplyPlan} merge or replace the tags and stamp a version above every
 * earlier one of the key, and store the canonical bytes durably.
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
    ApplyPlan plan = plan(req, lookup, validator);
    return store.update(
        plan.key().group(),
        plan.shard(),
        plan.key(),
        prev -> {
          ApplyPlan.Outcome out = plan.next(prev, clock, maxPropertyBytes);
          return new PropertyStore.KeyUpdate<ApplyResponse>() {
            @Override
            public PropertyRecord next() {
              return out.record();
            }

            @Override
            public ApplyResponse result() {
              return out.response();
            }
          };
        });
  }

  /** Validates an Apply against its group and schema. */
  static ApplyPlan plan(ApplyRequest req, SchemaLookup lookup, PropertyRequestValidator validator) {
    if (!req.hasProperty()) {
      throw new InvalidArgumentException("property is required");
    }
    Property p = req.getProperty();
    validator.checkShape(p);
    String groupName = p.getMetadata().getGroup();
    Group group = lookup.propertyGroup(groupName, "property.metadata.group");
    var schema = lookup.schema(groupName, p.getMetadata().getName());
    validator.checkTags(p.getTagsList(), schema);
    if (req.getStrategy() == ApplyRequest.Strategy.UNRECOGNIZED) {
      throw new InvalidArgumentException("strategy must be a defined ApplyRequest.Strategy");
    }
    EntityKey key = new EntityKey(groupName, p.getMetadata().getName(), p.getId());
    int shard = ShardRouter.shardOf(key, group.getResourceOpts().getShardNum());
    return new ApplyPlan(
        key, shard, p.getTagsList(), req.getStrategy() == ApplyRequest.Strategy.STRATEGY_REPLACE, schema);
  }
}
