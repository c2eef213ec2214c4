package dev.arbor.console;

import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.console.v1.TreeStatusRequest;
import dev.arbor.api.console.v1.TreeStatusResponse;
import dev.arbor.cluster.DataNodes;
import dev.arbor.cluster.NodeId;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The data nodes of a cluster, asked over their internal listener through the registered
 * clients; this node itself (a data node) answered in-process.
 */
public final class PeerReplicas implements ReplicaAccess {
  private final LocalReplica self;
  private final DataNodes nodes;

  /** @param self this node's storage, or null on a node that holds none (a liaison) */
  public PeerReplicas(LocalReplica self, DataNodes nodes) {
    this.self = self;
    this.nodes = nodes;
  }

  private boolean isSelf(String nodeId) {
    return self != null && self.nodeId().equals(nodeId);
  }

  @Override
  public CompletableFuture<TreeStatusResponse> treeStatus(String nodeId, String group) {
    if (isSelf(nodeId)) {
      return self.treeStatus(nodeId, group);
    }
    try {
      return nodes.client(new NodeId(nodeId))
          .treeStatus(TreeStatusRequest.newBuilder().setGroup(group).build(), nodes.callDeadline());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public CompletableFuture<List<StoredProperty>> read(String nodeId, Key key) {
    if (isSelf(nodeId)) {
      return self.read(nodeId, key);
    }
    try {
      return nodes.client(new NodeId(nodeId)).read(List.of(key), nodes.callDeadline());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }
}
