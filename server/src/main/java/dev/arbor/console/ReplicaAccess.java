package dev.arbor.console;

import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.console.v1.TreeStatusResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What the console asks of one storage node (this one, in-process, or a peer over the internal
 * listener). Futures complete exceptionally when the node cannot be asked.
 */
public interface ReplicaAccess {
  /** The node's figures and, with a non-empty {@code group}, its current root of each shard. */
  CompletableFuture<TreeStatusResponse> treeStatus(String nodeId, String group);

  /** The node's latest copy of {@code key} (empty when it holds none), tombstones included. */
  CompletableFuture<List<StoredProperty>> read(String nodeId, Key key);
}
