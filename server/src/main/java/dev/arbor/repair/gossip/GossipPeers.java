package dev.arbor.repair.gossip;

import dev.arbor.api.repair.v1.PropagationRequest;
import dev.arbor.api.repair.v1.PropagationResponse;
import dev.arbor.api.repair.v1.RoundReport;
import java.util.Optional;

/** How the gossip layer reaches other nodes: addresses from membership, and the two gossip calls. */
public interface GossipPeers {
  /** The address of a registered node, or empty when it is not registered. */
  Optional<String> address(String nodeId);

  /** Calls {@code Propagate} on a node; throws on transport failure. */
  PropagationResponse propagate(String address, PropagationRequest request);

  /** Calls {@code Report} on a node; throws on transport failure. */
  void report(String address, RoundReport report);
}
