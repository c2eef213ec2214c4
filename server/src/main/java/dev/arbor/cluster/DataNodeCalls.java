package dev.arbor.cluster;

import dev.arbor.api.banyandb.common.v1.Span;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.StoredProperty;
import io.grpc.Deadline;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The calls a liaison (or a node handing off copies) makes to one data node's internal API.
 * Asynchronous: each method returns at once, and its future completes with the answer or
 * exceptionally with the domain exception the call failed with — {@link
 * dev.arbor.errors.UnavailableException} naming the node when it cannot be reached or does not
 * answer within the deadline, the node's own rejections ({@link
 * dev.arbor.errors.InvalidArgumentException}, {@link dev.arbor.errors.NotFoundException}) as they
 * are. Nothing here blocks, so one thread can drive calls to many nodes, and a simulated network
 * can stand in for gRPC ({@link DataNodeClient}) without touching the callers.
 */
public interface DataNodeCalls {
  DataNode node();

  /** Sends records; the future holds what the node did with each. */
  CompletableFuture<WriteReply> write(List<StoredProperty> properties, boolean fresh, Deadline deadline);

  /** The node's latest copy of each key it holds, tombstones included. */
  CompletableFuture<List<StoredProperty>> read(Collection<Key> keys, Deadline deadline);

  /** The first {@code query.limit} whole live properties matching the query on the given shards of each group. */
  CompletableFuture<List<StoredProperty>> queryShards(QueryRequest query, Map<String, List<Integer>> shards,
      Deadline deadline);

  /** The node's tree roots of a group's shards and its own figures (the web console's view). */
  CompletableFuture<dev.arbor.api.console.v1.TreeStatusResponse> treeStatus(
      dev.arbor.api.console.v1.TreeStatusRequest request, Deadline deadline);

  /**
   * Starts repair rounds on the node (it originates them) and streams their progress to
   * {@code events}, which ends when every round reported its outcome.
   */
  void runRepair(dev.arbor.api.repair.v1.RunRepairRequest request,
      io.grpc.stub.StreamObserver<dev.arbor.api.repair.v1.RepairProgress> events);

  /**
   * What a node's QueryShards pages returned: the properties, and when the query asked for a
   * trace, the node's span for each page, in page order.
   */
  record ShardsReply(List<StoredProperty> properties, List<Span> spans) {}

  /** As {@link #queryShards}, with the spans the node sends when {@code query.trace} is set (none here). */
  default CompletableFuture<ShardsReply> queryShardsTraced(QueryRequest query, Map<String, List<Integer>> shards,
      Deadline deadline) {
    return queryShards(query, shards, deadline).thenApply(p -> new ShardsReply(p, List.of()));
  }
}
