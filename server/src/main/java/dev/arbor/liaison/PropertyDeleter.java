package dev.arbor.liaison;

import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.property.v1.DeleteRequest;
import dev.arbor.api.banyandb.property.v1.DeleteResponse;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.metadata.MetadataValidator;
import dev.arbor.property.Names;
import dev.arbor.metadata.SchemaLookup;
import dev.arbor.property.Defect;
import dev.arbor.property.DefectSwitches;
import dev.arbor.property.EntityKey;
import dev.arbor.property.HybridClock;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import dev.arbor.storage.DocumentCodec;
import dev.arbor.storage.MultiShardSearcher;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardIndex;
import dev.arbor.storage.ShardSearch;
import java.util.List;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.TermQuery;

/**
 * Delete (spec §2.2, with our fixes): by id, or every live id of a name when id is empty — paged
 * to the end (no silent 100 cap), one durable batch per page. A deleted key becomes a tombstone
 * (same bytes, a fresh revision above the deleted version, a delete time) so repair can spread
 * the delete and it beats every version before it; queries never return it.
 */
final class PropertyDeleter {
  private static final int PAGE = 1000;

  private final SchemaLookup lookup;
  private final PropertyStore store;
  private final HybridClock clock;
  /** Test-only defects switched back on ({@link DefectSwitches#NONE} in production). */
  private final DefectSwitches defects;

  PropertyDeleter(SchemaLookup lookup, PropertyStore store, HybridClock clock) {
    this(lookup, store, clock, DefectSwitches.NONE);
  }

  /** As above, with {@link Defect#TOMBSTONE_KEEPS_OLD_REVISION} possible. */
  PropertyDeleter(SchemaLookup lookup, PropertyStore store, HybridClock clock, DefectSwitches defects) {
    this.defects = defects;
    this.lookup = lookup;
    this.store = store;
    this.clock = clock;
  }

  /** Checks a Delete's group and name (shared with the replicated path). */
  static void checkRequest(DeleteRequest req) {
    if (req.getGroup().isEmpty()) {
      throw new InvalidArgumentException("group must not be empty");
    }
    if (req.getName().isEmpty()) {
      throw new InvalidArgumentException("name must not be empty");
    }
    MetadataValidator.checkNameField("group", req.getGroup());
    MetadataValidator.checkNameField("name", req.getName());
    if (!req.getId().isEmpty()) {
      Names.idProblem(req.getId()).ifPresent(problem -> {
        throw new InvalidArgumentException("id " + problem);
      });
    }
  }

  DeleteResponse delete(DeleteRequest req) {
    checkRequest(req);
    Group group = lookup.propertyGroup(req.getGroup(), "group");
    int shardNum = group.getResourceOpts().getShardNum();
    if (!req.getId().isEmpty()) {
      EntityKey key = new EntityKey(req.getGroup(), req.getName(), req.getId());
      boolean deleted =
          !store
              .updateBatch(req.getGroup(), List.of(key), k -> ShardRouter.shardOf(k, shardNum), this::tombstoneIfLive)
              .isEmpty();
      return DeleteResponse.newBuilder().setDeleted(deleted).build();
    }
    return DeleteResponse.newBuilder().setDeleted(deleteAllOfName(req.getGroup(), req.getName(), shardNum) > 0).build();
  }

  /** Tombstones every live property of {@code name} in {@code group}; returns how many. */
  int deleteAllOfName(String group, String name, int shardNum) {
    Query q =
        new BooleanQuery.Builder()
            .add(new TermQuery(new Term(DocumentCodec.NAME, name)), Occur.FILTER)
            .add(new TermQuery(new Term(DocumentCodec.LIVE, DocumentCodec.LIVE_YES)), Occur.FILTER)
            .build();
    int total = 0;
    while (true) {
      List<ShardIndex> shards = store.shardsOf(group);
      List<PropertyRecord> page =
          MultiShardSearcher.search(shards.stream().map(s -> new ShardSearch(s, q)).toList(), PAGE, null);
      if (page.isEmpty()) {
        return total;
      }
      List<EntityKey> keys = page.stream().map(PropertyRecord::key).toList();
      total += store.updateBatch(group, keys, k -> ShardRouter.shardOf(k, shardNum), this::tombstoneIfLive).size();
    }
  }

  private PropertyRecord tombstoneIfLive(PropertyRecord prev) {
    if (prev == null || prev.deleted()) {
      return null;
    }
    if (defects.has(Defect.TOMBSTONE_KEEPS_OLD_REVISION)) {
      return prev.tombstone(clock.next()); // the old defect, switched on by a test
    }
    long rev = clock.next(prev.modRevision());
    return prev.tombstoneAt(rev, rev);
  }
}
