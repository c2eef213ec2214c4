package dev.arbor.repair;

import dev.arbor.api.admin.v1.BuildTreesRequest;
import dev.arbor.api.admin.v1.BuildTreesResponse;
import dev.arbor.api.admin.v1.ShardBuildResult;
import dev.arbor.api.admin.v1.TreeAdminServiceGrpc;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.errors.NotFoundException;
import dev.arbor.transport.StatusMapping;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.repair.tree.BuildResult;
import dev.arbor.repair.tree.RepairTrees;
import io.grpc.stub.StreamObserver;

/** {@code arbor.admin.v1.TreeAdminService}: build repair trees on demand ({@code arbor tree build}). */
public final class TreeAdminGrpcService extends TreeAdminServiceGrpc.TreeAdminServiceImplBase {
  private final MetadataStore metadata;
  private final RepairTrees trees;

  public TreeAdminGrpcService(MetadataStore metadata, RepairTrees trees) {
    this.metadata = metadata;
    this.trees = trees;
  }

  @Override
  public void buildTrees(BuildTreesRequest req, StreamObserver<BuildTreesResponse> obs) {
    StatusMapping.unary(obs, () -> {
      BuildTreesResponse.Builder out = BuildTreesResponse.newBuilder();
      if (req.getGroup().isEmpty()) {
        if (!req.getAllShards()) {
          throw new InvalidArgumentException("group must be set unless all_shards is");
        }
        trees.buildAll(req.getForce()).forEach(r -> out.addResults(toProto(r)));
        return out.build();
      }
      Group g = metadata.group(req.getGroup())
          .orElseThrow(() -> new NotFoundException("group " + req.getGroup() + " not found"));
      int shards = g.getResourceOpts().getShardNum();
      if (req.getAllShards()) {
        for (int s = 0; s < shards; s++) {
          out.addResults(toProto(trees.build(req.getGroup(), s, req.getForce())));
        }
      } else {
        // uint32: read unsigned, or 2^31 and above would pass as negative.
        if (Integer.toUnsignedLong(req.getShard()) >= shards) {
          throw new InvalidArgumentException(
              "shard " + Integer.toUnsignedString(req.getShard()) + " is out of range: group " + req.getGroup() + " has " + shards + " shard(s)");
        }
        out.addResults(toProto(trees.build(req.getGroup(), req.getShard(), req.getForce())));
      }
      return out.build();
    });
  }

  private static ShardBuildResult toProto(BuildResult r) {
    ShardBuildResult.Builder b = ShardBuildResult.newBuilder()
        .setGroup(r.group())
        .setShard(r.shard())
        .setOutcome(r.outcome().name())
        .setSnapshotId(r.snapshotId())
        .setDurationMs(r.durationNanos() / 1e6)
        .setMessage(r.message() == null ? "" : r.message());
    if (r.summary() != null) {
      b.setRoot(r.summary().rootHex()).setLeafCount(r.summary().leafCount());
    }
    return b.build();
  }
}
