package dev.arbor.datanode;

import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.banyandb.common.v1.Span;
import dev.arbor.api.cluster.v1.QueryShardsRequest;
import dev.arbor.query.QuerySpans;
import dev.arbor.storage.ShardSearchStats;
import dev.arbor.api.cluster.v1.QueryShardsResponse;
import dev.arbor.api.cluster.v1.ReadRequest;
import dev.arbor.api.cluster.v1.ReadResponse;
import dev.arbor.api.cluster.v1.ShardList;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.cluster.v1.WriteRequest;
import dev.arbor.api.cluster.v1.WriteOutcome;
import dev.arbor.api.cluster.v1.WriteResponse;
import dev.arbor.api.banyandb.common.v1.Group;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import dev.arbor.cluster.InternalApiLimits;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.errors.NotFoundException;
import dev.arbor.errors.ResourceExhaustedException;
import dev.arbor.transport.StatusMapping;
import dev.arbor.metadata.SchemaLookup;
import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import dev.arbor.query.QueryLimit;
import dev.arbor.query.QueryPlanner;
import dev.arbor.property.Defect;
import dev.arbor.property.DefectSwitches;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.storage.ApplyOutcome;
import dev.arbor.storage.IncarnationGate;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardWrite;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code arbor.cluster.v1.DataNodeService} on a data node. Every record and key is checked
 * against the group's metadata (the group exists, the shard is in range and is the entity's
 * shard), so a confused caller never gets misplaced data: Read and QueryShards answer
 * INVALID_ARGUMENT or NOT_FOUND, Write answers REJECTED for that record. A written record must also
 * claim this node's incarnation of its group (or none, from an older liaison): one of another
 * incarnation belongs to a group deleted and re-created under the same name. Replies carry this
 * node's incarnation, so a liaison can ignore copies of a namesake this node has not dropped yet.
 * Replies never grow with the request alone: a Read takes at most
 * {@link dev.arbor.cluster.InternalApiLimits#MAX_READ_KEYS} keys, and Read and QueryShards replies
 * stop at the {@link ResponseBudget} and say where to go on (cluster.proto explains the paging).
 */
public final class DataNodeGrpcService extends DataNodeServiceGrpc.DataNodeServiceImplBase {
  private final SchemaLookup lookup;
  private final PropertyStore store;
  private final QueryPlanner planner;
  private final IncarnationGate incarnations;
  private final dev.arbor.property.RevisionBound revisionBound;
  private final dev.arbor.storage.CopyFence fence;

  private final long metadataLagNanos;
  private final ResponseBudget budget;
  /** Test-only: {@link Defect#FRESH_DELETE_CLOCK_UNCHECKED} switched back on (never in production). */
  private final boolean freshUnchecked;

  public DataNodeGrpcService(SchemaLookup lookup, PropertyStore store, QueryPlanner planner,
      IncarnationGate incarnations) {
    this(lookup, store, planner, incarnations, dev.arbor.property.RevisionBound.NONE,
        dev.arbor.storage.CopyFence.NONE, METADATA_LAG);
  }

  public DataNodeGrpcService(SchemaLookup lookup, PropertyStore store, QueryPlanner planner,
      IncarnationGate incarnations, dev.arbor.storage.CopyFence fence) {
    this(lookup, store, planner, incarnations, dev.arbor.property.RevisionBound.NONE, fence, METADATA_LAG);
  }

  public DataNodeGrpcService(SchemaLookup lookup, PropertyStore store, QueryPlanner planner,
      IncarnationGate incarnations, dev.arbor.property.RevisionBound revisionBound) {
    this(lookup, store, planner, incarnations, revisionBound, dev.arbor.storage.CopyFence.NONE, METADATA_LAG);
  }

  /** Waiting at most {@code metadataLag} per request for groups this node has not heard of. */
  public DataNodeGrpcService(SchemaLookup lookup, PropertyStore store, QueryPlanner planner,
      IncarnationGate incarnations, java.time.Duration metadataLag) {
    this(lookup, store, planner, incarnations, dev.arbor.property.RevisionBound.NONE,
        dev.arbor.storage.CopyFence.NONE, metadataLag);
  }

  public DataNodeGrpcService(SchemaLookup lookup, PropertyStore store, QueryPlanner planner,
      IncarnationGate incarnations, dev.arbor.property.RevisionBound revisionBound,
      dev.arbor.storage.CopyFence fence) {
    this(lookup, store, planner, incarnations, revisionBound, fence, METADATA_LAG);
  }

  public DataNodeGrpcService(SchemaLookup lookup, PropertyStore store, QueryPlanner planner,
      IncarnationGate incarnations, dev.arbor.property.RevisionBound revisionBound,
      dev.arbor.storage.CopyFence fence, java.time.Duration metadataLag) {
    this(lookup, store, planner, incarnations, revisionBound, fence, metadataLag, ResponseBudget.DEFAULT);
  }

  /** With the default refusals and metadata lag, and replies held to {@code budget}. */
  public DataNodeGrpcService(SchemaLookup lookup, PropertyStore store, QueryPlanner planner,
      IncarnationGate incarnations, ResponseBudget budget) {
    this(lookup, store, planner, incarnations, dev.arbor.property.RevisionBound.NONE,
        dev.arbor.storage.CopyFence.NONE, METADATA_LAG, budget);
  }

  /**
   * @param revisionBound refuses records whose revision is too far ahead of this node's clock
   * @param fence copies that take no writes: orphans this node is handing to the owners
   * @param metadataLag how long one request waits at most for groups this node has not heard of
   * @param budget the most property bytes one Read or QueryShards reply carries
   */
  public DataNodeGrpcService(SchemaLookup lookup, PropertyStore store, QueryPlanner planner,
      IncarnationGate incarnations, dev.arbor.property.RevisionBound revisionBound,
      dev.arbor.storage.CopyFence fence, java.time.Duration metadataLag, ResponseBudget budget) {
    this(lookup, store, planner, incarnations, revisionBound, fence, metadataLag, budget, DefectSwitches.NONE);
  }

  /** As above, with test-only {@code defects} switched back on: {@link Defect#FRESH_DELETE_CLOCK_UNCHECKED}. */
  public DataNodeGrpcService(SchemaLookup lookup, PropertyStore store, QueryPlanner planner,
      IncarnationGate incarnations, dev.arbor.property.RevisionBound revisionBound,
      dev.arbor.storage.CopyFence fence, java.time.Duration metadataLag, ResponseBudget budget,
      DefectSwitches defects) {
    this.freshUnchecked = defects.has(Defect.FRESH_DELETE_CLOCK_UNCHECKED);
    this.budget = budget;
    this.metadataLagNanos = metadataLag.toNanos();
    this.revisionBound = revisionBound;
    this.fence = fence;
    this.lookup = lookup;
    this.store = store;
    this.planner = planner;
    this.incarnations = incarnations;
  }

  @Override
  public void write(WriteRequest req, StreamObserver<WriteResponse> obs) {
    StatusMapping.unary(obs, () -> {
      int n = req.getPropertiesCount();
      WriteOutcome[] outcomes = new WriteOutcome[n];
      String[] reasons = new String[n];
      java.util.Arrays.fill(reasons, "");
      List<ShardWrite> writes = new ArrayList<>(n);
      List<Integer> positions = new ArrayList<>(n);
      String rejection = "";
      // A group this node does not know is waited for once per request, not once per record.
      Map<String, NotFoundException> unknownGroups = new java.util.HashMap<>();
      long deadline = lagDeadline();
      // Checked once per (group, claimed incarnation); the store checks again as it writes.
      Map<String, String> refusals = new java.util.HashMap<>();
      Map<String, GroupIncarnation> claimed = new java.util.HashMap<>();
      for (int i = 0; i < n; i++) {
        String field = "properties[" + i + "]";
        try {
          ShardWrite w = StoredProperties.fromProto(req.getProperties(i), field);
          revisionBound.problem(w.record()).ifPresent(why -> {
            throw new InvalidArgumentException(field + ": " + why);
          });
          if (req.getFresh() && !freshUnchecked) {
            revisionBound.freshProblem(w.record()).ifPresent(why -> {
              throw new InvalidArgumentException(field + ": " + why);
            });
          }
          java.util.Optional<GroupIncarnation> claim = StoredProperties.incarnationOf(req.getProperties(i), field);
          NotFoundException unknown = unknownGroups.get(w.group());
          if (unknown != null) {
            throw unknown;
          }
          try {
            checkPlacement(w.group(), w.shard(), w.record().key(), field, deadline);
          } catch (NotFoundException e) {
            unknownGroups.put(w.group(), e);
            throw e;
          }
          String orphan = fence.refusal(w.group(), w.shard());
          if (orphan != null) {
            throw new InvalidArgumentException(field + ": " + orphan);
          }
          if (claim.isPresent()) {
            String refusal = refusals.computeIfAbsent(w.group() + "/" + claim.get(),
                k -> java.util.Objects.requireNonNullElse(incarnations.refusal(w.group(), claim), ""));
            if (!refusal.isEmpty()) {
              throw new InvalidArgumentException(field + ": " + refusal);
            }
            claimed.put(w.group(), claim.get());
          }
          writes.add(w);
          positions.add(i);
        } catch (InvalidArgumentException | NotFoundException e) {
          // Per record, so the writer learns which one and the valid ones still land.
          outcomes[i] = WriteOutcome.WRITE_OUTCOME_REJECTED;
          reasons[i] = String.valueOf(e.getMessage());
          if (rejection.isEmpty()) {
            rejection = e.getMessage();
          }
        }
      }
      int stored = 0;
      if (!writes.isEmpty()) {
        List<ApplyOutcome> applied = store.applyEach(writes, claimed);
        for (int j = 0; j < applied.size(); j++) {
          outcomes[positions.get(j)] = toProto(applied.get(j));
          if (applied.get(j) == ApplyOutcome.WRONG_INCARNATION) {
            reasons[positions.get(j)] = "properties[" + positions.get(j) + "]: group " + writes.get(j).group()
                + " changed incarnation while it was written (deleted and re-created)";
            if (rejection.isEmpty()) {
              rejection = reasons[positions.get(j)];
            }
          }
          if (applied.get(j) == ApplyOutcome.STORED) {
            stored++;
          }
        }
      }
      WriteResponse.Builder reply = WriteResponse.newBuilder()
          .setStored(stored)
          .addAllOutcomes(List.of(outcomes))
          .setRejection(rejection);
      if (!rejection.isEmpty()) {
        reply.addAllRejections(List.of(reasons));
      }
      return reply.build();
    });
  }

  private static WriteOutcome toProto(ApplyOutcome o) {
    return switch (o) {
      case STORED -> WriteOutcome.WRITE_OUTCOME_STORED;
      case NOT_STORED_EQUAL -> WriteOutcome.WRITE_OUTCOME_NOT_STORED_EQUAL;
      case NOT_STORED_NEWER -> WriteOutcome.WRITE_OUTCOME_NOT_STORED_NEWER;
      case WRONG_INCARNATION -> WriteOutcome.WRITE_OUTCOME_REJECTED;
    };
  }

  @Override
  public void read(ReadRequest req, StreamObserver<ReadResponse> obs) {
    StatusMapping.unary(obs, () -> {
      int n = req.getKeysCount();
      if (n > InternalApiLimits.MAX_READ_KEYS) {
        throw new InvalidArgumentException("keys: " + n + " keys exceed the maximum of "
            + InternalApiLimits.MAX_READ_KEYS + " in one Read; split the read");
      }
      ReadResponse.Builder out = ReadResponse.newBuilder();
      ResponseBudget.Fill fill = budget.fill();
      long deadline = lagDeadline();
      int answered = 0;
      for (int i = 0; i < n; i++) {
        Key k = req.getKeys(i);
        String field = "keys[" + i + "]";
        EntityKey key;
        try {
          key = EntityKey.parse(k.getEntity());
        } catch (IllegalArgumentException e) {
          throw new InvalidArgumentException(field + ".entity is not group/name/id: " + k.getEntity());
        }
        checkPlacement(k.getGroup(), k.getShard(), key, field, deadline);
        PropertyRecord r = store.latest(k.getGroup(), k.getShard(), key);
        if (r != null) {
          StoredProperty p = StoredProperties.toProto(k.getGroup(), k.getShard(), r, store.incarnation(k.getGroup()));
          if (k.getVersionOnly()) {
            p = p.toBuilder().clearSource().build();
          }
          if (!fill.take(CodedOutputStream.computeMessageSize(ReadResponse.PROPERTIES_FIELD_NUMBER, p))) {
            if (!req.getAllowPartial()) {
              // The caller cannot see keys_read: leaving keys out would read as "not held".
              throw new ResourceExhaustedException("the copies of " + n + " keys exceed this node's"
                  + " --max-response-bytes (" + budget.maxBytes() + "); ask for fewer keys or set allow_partial");
            }
            break;
          }
          out.addProperties(p);
        }
        answered = i + 1;
      }
      return out.setKeysRead(answered).build();
    });
  }

  @Override
  public void queryShards(QueryShardsRequest req, StreamObserver<QueryShardsResponse> obs) {
    StatusMapping.unary(obs, () -> {
      if (!req.hasQuery()) {
        throw new InvalidArgumentException("query is required");
      }
      Map<String, ShardList> wanted = req.getShardsMap();
      Map<String, Set<Integer>> shards = new java.util.HashMap<>();
      wanted.forEach((g, list) -> shards.put(g, new HashSet<>(list.getShardsList())));
      QueryPlanner.ShardFilter filter = (g, s) -> !shards.containsKey(g) || shards.get(g).contains(s);
      QuerySpans spans = req.getQuery().getTrace() ? QuerySpans.start() : null;
      ShardSearchStats stats = spans == null ? null : new ShardSearchStats();
      long deadline = lagDeadline();
      req.getQuery().getGroupsList().forEach(g -> knownGroup(g, "query.groups", deadline));
      QueryShardsResponse.Builder out = QueryShardsResponse.newBuilder();
      ResponseBudget.Fill fill = budget.fill();
      Map<String, Integer> shardNums = new java.util.HashMap<>();
      ByteString next = planner.page(req.getQuery(), filter, req.getPageToken(), "page_token", r -> {
        String group = r.key().group();
        int shardNum = shardNums.computeIfAbsent(group,
            x -> lookup.propertyGroup(x, "query.groups").getResourceOpts().getShardNum());
        StoredProperty p = StoredProperties.toProto(group, ShardRouter.shardOf(r.key(), shardNum), r,
            store.incarnation(group));
        if (!fill.take(CodedOutputStream.computeMessageSize(QueryShardsResponse.PROPERTIES_FIELD_NUMBER, p))) {
          return false;
        }
        out.addProperties(p);
        return true;
      }, stats);
      long asked = QueryLimit.unsigned(req.getQuery().getLimit());
      asked = asked == 0 ? QueryLimit.DEFAULT : asked;
      // Fewer than asked while more match: cut by the byte budget or the hard maximum.
      out.setNextPageToken(next).setTruncated(!next.isEmpty() && out.getPropertiesCount() < asked);
      if (spans != null) {
        Span.Builder span = spans.span("query shards: " + out.getPropertiesCount() + " properties",
            spans.startNanos(), System.nanoTime());
        QuerySpans.tag(span, "shards", stats.shards().size());
        QuerySpans.tag(span, "properties", out.getPropertiesCount());
        QuerySpans.tag(span, "more", !next.isEmpty());
        QuerySpans.tag(span, "truncated", out.getTruncated());
        out.addSpans(span.addAllChildren(spans.shardSpans(stats)));
      }
      return out.build();
    });
  }

  /** How long a request for a group this node has not heard of waits for the metadata watch. */
  private static final java.time.Duration METADATA_LAG = java.time.Duration.ofSeconds(2);

  /** When a request that starts now stops waiting for unknown groups: one budget per request. */
  private long lagDeadline() {
    return System.nanoTime() + metadataLagNanos;
  }

  /**
   * The group, waiting until {@code deadline} when it is unknown: the liaison may have created it a
   * moment ago and this node's metadata watch may not have delivered it yet. The deadline is the
   * request's, not the group's: a request naming many unknown groups must not wait 2 s for each.
   */
  private Group knownGroup(String group, String field, long deadline) {
    while (true) {
      try {
        return lookup.propertyGroup(group, field);
      } catch (NotFoundException e) {
        if (System.nanoTime() - deadline >= 0) {
          throw e;
        }
        try {
          Thread.sleep(25);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  private void checkPlacement(String group, int shard, EntityKey key, String field, long deadline) {
    Group g = knownGroup(group, field + ".group", deadline);
    int shardNum = g.getResourceOpts().getShardNum();
    int expected = ShardRouter.shardOf(key, shardNum);
    if (shard != expected) {
      throw new InvalidArgumentException(
          field + ".shard is " + shard + " but " + key + " belongs to shard " + expected + " of " + shardNum);
    }
  }
}
