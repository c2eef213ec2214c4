package dev.arbor.repair.gossip;

import dev.arbor.api.repair.v1.PropagationRequest;
import dev.arbor.api.repair.v1.PropagationResponse;
import dev.arbor.api.repair.v1.RoundReport;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * How the gossip layer reaches other nodes: addresses from membership, and the two gossip calls.
 * The calls are asynchronous: they return at once, and the future completes with the peer's
 * answer or exceptionally with the transport failure (a {@code StatusRuntimeException} over gRPC,
 * its deadline included), so a simulated network can stand in for gRPC without touching the
 * protocol.
 */
public interface GossipPeers {
  /** The address of a registered node, or empty when it is not registered. */
  Optional<String> address(String nodeId);

  /** Calls {@code Propagate} on a node. */
  CompletableFuture<PropagationResponse> propagate(String address, PropagationRequest request);

  /** Calls {@code Report} on a node; completes when the node has taken the report. */
  CompletableFuture<Void> report(String address, RoundReport report);
}
