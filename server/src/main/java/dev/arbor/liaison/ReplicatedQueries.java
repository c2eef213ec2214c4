package dev.arbor.liaison;

import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.model.v1.Sort;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.banyandb.property.v1.QueryResponse;
import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.DataNodeCalls;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.errors.UnavailableException;
import dev.arbor.metadata.SchemaLookup;
import dev.arbor.property.Defect;
import dev.arbor.property.DefectSwitches;
import dev.arbor.property.LastWriteWins;
import dev.arbor.property.PropertyRecord;
import dev.arbor.query.QueryLimit;
import dev.arbor.query.QueryPlanner;
import dev.arbor.query.TagOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Query on a cluster (docs/cluster-design.md): ask every replica of every queried shard (one call
 * per node; a query by name and ids queries only the shards the ids route to), tolerate replicas that fail while another copy of the shard answers, confirm the
 * candidates with a read of all their replicas (a replica whose copy is a newer tombstone, or a
 * newer version that no longer matches, returns nothing to the query), push the full winning
 * record to replicas that answered with an older copy or none, then order, limit and project.
 */
final class ReplicatedQueries {
  private final SchemaLookup lookup;
  private final ReplicaCalls calls;
  private final ReadRepairQueue repairs;
  private final RequestLimits limits;
  /** Test-only: {@link Defect#QUERY_NO_REFILL} switched back on (never in production). */
  private final boolean noRefill;

  ReplicatedQueries(SchemaLookup lookup, ReplicaCalls calls, ReadRepairQueue repairs, RequestLimits limits) {
    this(lookup, calls, repairs, limits, DefectSwitches.NONE);
  }

  ReplicatedQueries(SchemaLookup lookup, ReplicaCalls calls, ReadRepairQueue repairs, RequestLimits limits,
      DefectSwitches defects) {
    this.noRefill = defects.has(Defect.QUERY_NO_REFILL);
    this.lookup = lookup;
    this.calls = calls;
    this.repairs = repairs;
    this.limits = limits;
  }

  private record GroupShard(String group, int shard) {}

  QueryResponse query(QueryRequest req) {
    ClusterQueryTrace trace = req.getTrace() ? new ClusterQueryTrace() : null;
    QueryResults.checkLimits(req, limits);
    int limit = QueryLimit.clamped(req.getLimit());
    Map<GroupShard, List<DataNode>> replicasOf = new LinkedHashMap<>();
    Map<DataNode, Map<String, List<Integer>>> ask = new LinkedHashMap<>();
    for (String g : new LinkedHashSet<>(req.getGroupsList())) {
      Group group = lookup.propertyGroup(g, "groups");
      int copies = group.getResourceOpts().getReplicas() + 1;
      for (int s : QueriedShards.of(req, g, group.getResourceOpts().getShardNum())) {
        List<DataNode> reps = calls.nodes().replicas(g, s, copies);
        if (reps.isEmpty()) {
          throw new UnavailableException("no data node is registered");
        }
        replicasOf.put(new GroupShard(g, s), reps);
        for (DataNode n : reps) {
          ask.computeIfAbsent(n, x -> new LinkedHashMap<>()).computeIfAbsent(g, x -> new ArrayList<>()).add(s);
        }
      }
    }
    String orderTag = req.hasOrderBy() ? req.getOrderBy().getTagName() : "";
    Comparator<Hit> order = orderTag.isEmpty()
        ? Comparator.comparing((Hit h) -> h.entity().getBytes(StandardCharsets.UTF_8), Arrays::compareUnsigned)
        : TagOrder.comparator(orderTag, req.getOrderBy().getSort() == Sort.SORT_DESC, Hit::property, Hit::entity);
    // Each node returns its own top rows; candidates a newer copy elsewhere disqualifies are
    // dropped after, so a round can come up short while more matches exist past a node's cut.
    // Ask again for more rows until the limit is filled below every truncated node's cut.
    int nodeLimit = limit;
    Round round;
    List<Hit> hits;
    while (true) {
      round = collect(req, nodeLimit, replicasOf, ask, trace);
      hits = round.hits();
      hits.sort(order);
      Hit cut = round.cuts().stream().min(order).orElse(null);
      List<Hit> certain = cut == null ? hits : hits.stream().filter(h -> order.compare(h, cut) <= 0).toList();
      if (noRefill) {
        break; // the old defect, switched on by a test: one round, whatever it came up with
      }
      if (certain.size() >= limit || cut == null || nodeLimit >= QueryLimit.HARD_MAX) {
        hits = cut == null || certain.size() >= limit ? certain : hits;
        break;
      }
      nodeLimit = (int) Math.min(QueryLimit.HARD_MAX, 2L * nodeLimit);
    }
    List<DataNode> targets = round.targets();
    Map<String, List<StoredProperty>> matched = round.matched();
    Set<String> projection = new HashSet<>(req.getTagProjectionList());
    QueryResponse.Builder out = QueryResponse.newBuilder();
    for (Hit h : hits.subList(0, Math.min(limit, hits.size()))) {
      out.addProperties(QueryResults.project(h.property(), projection));
    }
    if (trace != null) {
      out.setTrace(trace.finish(targets.size(), matched.size(), out.getPropertiesCount()));
    }
    return out.build();
  }

  private record Hit(String entity, Property property) {}

  /**
   * One pass: the confirmed hits, what each node matched, and for each node that returned as
   * many rows as asked (it may hold more) its last row: past the earliest of those, a match may
   * be missing.
   */
  private record Round(List<DataNode> targets, Map<String, List<StoredProperty>> matched, List<Hit> hits,
      List<Hit> cuts) {}

  private Round collect(QueryRequest req, int nodeLimit, Map<GroupShard, List<DataNode>> replicasOf,
      Map<DataNode, Map<String, List<Integer>>> ask, ClusterQueryTrace trace) {
    // 1. Query every node once, for the shards it holds a copy of.
    List<DataNode> targets = new ArrayList<>(ask.keySet());
    QueryRequest nodeQuery = req.toBuilder().clearTagProjection().setLimit(nodeLimit).build();
    int roundNo = trace == null ? 0 : trace.nextRound();
    // When each call started and ended, for the trace: the spans the nodes send nest inside.
    Map<DataNode, long[]> times = new ConcurrentHashMap<>();
    List<ReplicaCalls.Answer<DataNodeCalls.ShardsReply>> answers = calls.onEach(targets, (c, d) -> {
      long t0 = System.nanoTime();
      return c.queryShardsTraced(nodeQuery, ask.get(c.node()), d)
          .whenComplete((r, t) -> times.put(c.node(), new long[] {t0, System.nanoTime()}));
    });
    Set<DataNode> answered = new HashSet<>();
    Map<String, List<StoredProperty>> matched = new LinkedHashMap<>();
    List<Hit> cuts = new ArrayList<>();
    for (ReplicaCalls.Answer<DataNodeCalls.ShardsReply> a : answers) {
      if (trace != null) {
        long now = System.nanoTime();
        long[] t = times.getOrDefault(a.node(), new long[] {now, now});
        trace.nodeCall(a.node(), roundNo, ask.get(a.node()), t[0], t[1],
            a.ok() ? a.value().properties().size() : 0, a.ok() ? a.value().spans() : List.of(), a.failure());
      }
      if (a.ok()) {
        List<StoredProperty> got = a.value().properties();
        answered.add(a.node());
        got.stream().filter(this::ofCurrentIncarnation)
            .forEach(p -> matched.computeIfAbsent(p.getEntity(), e -> new ArrayList<>()).add(p));
        if (got.size() >= nodeLimit && !got.isEmpty()) {
          StoredProperty last = got.get(got.size() - 1);
          cuts.add(new Hit(last.getEntity(), QueryResults.decode(StoredProperties.fromProto(last, "query").record())));
        }
      }
    }
    replicasOf.forEach((gs, reps) -> {
      if (reps.stream().noneMatch(answered::contains)) {
        throw new UnavailableException("no replica of " + gs.group() + " shard " + gs.shard() + " answered: "
            + ReplicaCalls.describeFailures(answers));
      }
    });
    // 2. Confirm the candidates against every replica; repair the ones that lag.
    Map<GroupShard, List<Key>> keysByShard = new LinkedHashMap<>();
    List<Hit> hits = new ArrayList<>();
    for (List<StoredProperty> versions : matched.values()) {
      StoredProperty p = versions.get(0);
      GroupShard gs = new GroupShard(p.getGroup(), p.getShard());
      if (allReplicasAgree(versions, replicasOf.get(gs), answered)) {
        // Every replica returned the same live version: nothing newer exists, nothing to repair.
        hits.add(new Hit(p.getEntity(), QueryResults.decode(StoredProperties.fromProto(p, "query").record())));
        continue;
      }
      keysByShard.computeIfAbsent(gs, x -> new ArrayList<>())
          .add(Key.newBuilder().setGroup(p.getGroup()).setShard(p.getShard()).setEntity(p.getEntity()).build());
    }
    keysByShard.forEach((gs, keys) -> hits.addAll(confirm(gs, replicasOf.get(gs), keys, matched, trace)));
    return new Round(targets, matched, hits, cuts);
  }

  /**
   * False for a copy from a replica that still holds a deleted group of the same name (it drops
   * that data as soon as it sees the change): such a copy is neither served nor repaired.
   */
  private boolean ofCurrentIncarnation(StoredProperty p) {
    return StoredProperties.sameIncarnation(p, lookup.incarnation(p.getGroup()));
  }

  /** True when every replica of the shard answered and each returned exactly this version. */
  private static boolean allReplicasAgree(List<StoredProperty> versions, List<DataNode> replicas, Set<DataNode> answered) {
    if (versions.size() != replicas.size() || !answered.containsAll(replicas)) {
      return false;
    }
    StoredProperty first = versions.get(0);
    return versions.stream().allMatch(v -> v.getModRevision() == first.getModRevision()
        && v.getDeleteTime() == 0 && v.getSha().equals(first.getSha()));
  }

  private List<Hit> confirm(GroupShard gs, List<DataNode> replicas, List<Key> keys,
      Map<String, List<StoredProperty>> matched, ClusterQueryTrace trace) {
    long readStart = System.nanoTime();
    List<ReplicaCalls.Answer<List<StoredProperty>>> reads = calls.read(replicas, keys);
    Map<String, PropertyRecord> winners = new HashMap<>();
    Map<String, StoredProperty> winnerProtos = new HashMap<>();
    Map<DataNode, Map<String, PropertyRecord>> held = new HashMap<>();
    for (ReplicaCalls.Answer<List<StoredProperty>> a : reads) {
      if (!a.ok()) {
        continue;
      }
      Map<String, PropertyRecord> mine = new HashMap<>();
      for (StoredProperty p : a.value()) {
        if (!ofCurrentIncarnation(p)) {
          continue;
        }
        PropertyRecord r = StoredProperties.fromProto(p, "read").record();
        mine.put(p.getEntity(), r);
        if (LastWriteWins.beats(r, winners.get(p.getEntity()))) {
          winners.put(p.getEntity(), r);
          winnerProtos.put(p.getEntity(), p);
        }
      }
      held.put(a.node(), mine);
    }
    int[] repaired = {0};
    held.forEach((node, mine) -> winnerProtos.forEach((entity, w) -> {
      PropertyRecord copy = mine.get(entity);
      if (LastWriteWins.beats(winners.get(entity), copy)) {
        repairs.repair(node, w);
        repaired[0]++;
      }
    }));
    if (trace != null) {
      trace.confirm(gs.group(), gs.shard(), replicas, keys.size(), readStart, System.nanoTime(), held.size(),
          repaired[0]);
    }
    List<Hit> out = new ArrayList<>();
    for (Key k : keys) {
      PropertyRecord w = winners.get(k.getEntity());
      if (w == null || w.deleted()) {
        continue;
      }
      // The winner itself must have matched: a copy of equal revision but other bytes (it lost
      // the content tie-break) may match criteria the winner does not.
      boolean winnerMatched = matched.get(k.getEntity()).stream()
          .anyMatch(p -> p.getModRevision() == w.modRevision() && p.getDeleteTime() == 0
              && Arrays.equals(p.getSha().toByteArray(), w.sha()));
      if (winnerMatched) {
        out.add(new Hit(k.getEntity(), QueryResults.decode(w)));
      }
    }
    return out;
  }
}
