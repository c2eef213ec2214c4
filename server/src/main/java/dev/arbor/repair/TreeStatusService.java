package dev.arbor.repair;

import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.console.v1.ConsoleStatusServiceGrpc;
import dev.arbor.api.console.v1.ShardTreeStatus;
import dev.arbor.api.console.v1.TreeStatusRequest;
import dev.arbor.api.console.v1.TreeStatusResponse;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.repair.coverage.CoverageWatermark;
import dev.arbor.repair.tree.RepairTrees;
import dev.arbor.repair.tree.TreeSummary;
import dev.arbor.storage.PropertyStore;
import dev.arbor.transport.StatusMapping;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * {@code arbor.console.v1.ConsoleStatusService}: this node's current tree root of each shard of a
 * group, the last repair that covered it, and the node's own figures (disk, problems), for the web
 * console. Reads what is there: a root is taken from the served tree (live trees follow every
 * write), never built to answer, so drawing the console costs no tree build.
 */
public final class TreeStatusService extends ConsoleStatusServiceGrpc.ConsoleStatusServiceImplBase {
  private final String nodeId;
  private final MetadataStore metadata;
  private final PropertyStore store;
  private final RepairTrees trees;
  private final BiFunction<String, Integer, Optional<CoverageWatermark>> watermarks;
  private final DoubleSupplier diskUsedPercent;
  private final Supplier<List<String>> problems;
  private final long startedUnixMs;
  private final long tombstoneGraceMs;
  private final LongSupplier nowMs;

  /**
   * @param watermarks the coverage watermark of a shard (empty on a node that runs no repair)
   * @param startedUnixMs when the node started serving
   */
  public TreeStatusService(String nodeId, MetadataStore metadata, PropertyStore store, RepairTrees trees,
      BiFunction<String, Integer, Optional<CoverageWatermark>> watermarks, DoubleSupplier diskUsedPercent,
      Supplier<List<String>> problems, long startedUnixMs, java.time.Duration tombstoneGrace, LongSupplier nowMs) {
    this.nodeId = nodeId;
    this.metadata = metadata;
    this.store = store;
    this.trees = trees;
    this.watermarks = watermarks;
    this.diskUsedPercent = diskUsedPercent;
    this.problems = problems;
    this.startedUnixMs = startedUnixMs;
    this.tombstoneGraceMs = tombstoneGrace.toMillis();
    this.nowMs = nowMs;
  }

  @Override
  public void treeStatus(TreeStatusRequest req, StreamObserver<TreeStatusResponse> out) {
    StatusMapping.unary(out, () -> status(req));
  }

  /** The answer, computed in-process (a node's console asks itself this way). */
  public TreeStatusResponse status(TreeStatusRequest req) {
    TreeStatusResponse.Builder b = TreeStatusResponse.newBuilder().setNodeId(nodeId)
        .setDiskUsedPercent(diskUsedPercent.getAsDouble()).addAllProblems(problems.get())
        .setStartedUnixMs(startedUnixMs).setTombstoneGraceMs(tombstoneGraceMs);
    if (req.getGroup().isEmpty()) {
      return b.build();
    }
    Optional<Group> group = metadata.group(req.getGroup());
    if (group.isEmpty()) {
      throw new dev.arbor.errors.NotFoundException("group " + req.getGroup() + " not found");
    }
    int shards = group.get().getResourceOpts().getShardNum();
    for (int s = 0; s < shards; s++) {
      b.addShards(shard(req.getGroup(), s));
    }
    return b.build();
  }

  private ShardTreeStatus shard(String group, int shard) {
    ShardTreeStatus.Builder s = ShardTreeStatus.newBuilder().setShard(shard)
        .setPresent(store.existingShard(group, shard) != null);
    Optional<TreeSummary> summary = trees.summary(group, shard);
    if (summary.isPresent()) {
      boolean live = trees.isLive(group, shard);
      s.setHasTree(true).setRoot(summary.get().rootHex()).setLeafCount(summary.get().leafCount()).setLive(live)
          .setAsOfUnixMs(live ? nowMs.getAsLong() : summary.get().header().buildTimeMillis());
    }
    watermarks.apply(group, shard).ifPresent(w ->
        s.setLastRepairUnixMs(w.roundStartNanos() / 1_000_000).setLastRepairRoundId(w.roundId()));
    return s.build();
  }
}
