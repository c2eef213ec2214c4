package dev.arbor.console;

import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.console.v1.TreeStatusRequest;
import dev.arbor.api.console.v1.TreeStatusResponse;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.repair.TreeStatusService;
import dev.arbor.storage.PropertyStore;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** This node's own storage, answered in-process (standalone, and a data node about itself). */
public final class LocalReplica implements ReplicaAccess {
  private final String nodeId;
  private final TreeStatusService status;
  private final PropertyStore store;

  public LocalReplica(String nodeId, TreeStatusService status, PropertyStore store) {
    this.nodeId = nodeId;
    this.status = status;
    this.store = store;
  }

  public String nodeId() {
    return nodeId;
  }

  @Override
  public CompletableFuture<TreeStatusResponse> treeStatus(String node, String group) {
    try {
      return CompletableFuture.completedFuture(status.status(TreeStatusRequest.newBuilder().setGroup(group).build()));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public CompletableFuture<List<StoredProperty>> read(String node, Key key) {
    try {
      PropertyRecord r = store.latest(key.getGroup(), key.getShard(), EntityKey.parse(key.getEntity()));
      return CompletableFuture.completedFuture(
          r == null ? List.of() : List.of(StoredProperties.toProto(key.getGroup(), key.getShard(), r)));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }
}
