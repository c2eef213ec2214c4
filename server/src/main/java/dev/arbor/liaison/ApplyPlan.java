package dev.arbor.liaison;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.property.v1.ApplyResponse;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.metadata.SchemaLookup;
import dev.arbor.property.EntityKey;
import dev.arbor.property.HybridClock;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ProtoTime;
import dev.arbor.storage.StorageException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A validated Apply, ready to turn the key's previous version into the next one (spec §2.1 with
 * our fixes). Shared by the standalone path (under the store's key lock) and the replicated path
 * (after a pre-read of the replicas).
 *
 * @param key the entity
 * @param shard its shard
 * @param sent the tags of the request
 * @param replace STRATEGY_REPLACE (otherwise merge)
 * @param schema the property schema
 */
record ApplyPlan(
    EntityKey key, int shard, List<Tag> sent, boolean replace,
    dev.arbor.api.banyandb.database.v1.Property schema) {

  /** The next record and the response, from the key's latest version (null when none). */
  Outcome next(PropertyRecord prev, HybridClock clock, int maxPropertyBytes) {
    PropertyRecord livePrev = prev != null && !prev.deleted() ? prev : null;
    List<Tag> tags = replace || livePrev == null ? sent : merge(livePrev);
    long rev = clock.next(prev == null ? Long.MIN_VALUE + 1 : prev.modRevision());
    long createRev = livePrev != null ? livePrev.createRevision() : rev;
    Property stored =
        Property.newBuilder()
            .setMetadata(
                Metadata.newBuilder()
                    .setGroup(key.group())
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
    return new Outcome(
        PropertyRecord.live(key, rev, createRev, source),
        ApplyResponse.newBuilder().setCreated(livePrev == null).setTagsNum(tags.size()).build());
  }

  /** What an apply stores and answers. */
  record Outcome(PropertyRecord record, ApplyResponse response) {}

  /**
   * Sent tags first, then the previous tags not re-sent, in their stored order. Previous tags
   * that the current schema no longer accepts are dropped (the schema may have changed).
   */
  private List<Tag> merge(PropertyRecord prev) {
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
