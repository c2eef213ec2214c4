package dev.arbor.repair;

import dev.arbor.api.repair.v1.GossipServiceGrpc;
import dev.arbor.api.repair.v1.PropagationRequest;
import dev.arbor.api.repair.v1.PropagationResponse;
import dev.arbor.api.repair.v1.RoundReport;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.PeerChannels;
import dev.arbor.repair.gossip.GossipPeers;
import dev.arbor.transport.PeerFutures;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Gossip calls over gRPC (async stubs) to the registered data nodes, each with a deadline; a
 * failed call completes its future with the {@code StatusRuntimeException} it ended with.
 */
public final class GrpcGossipPeers implements GossipPeers {
  private final Supplier<List<DataNode>> dataNodes;
  private final PeerChannels channels;
  private final Duration callTimeout;

  public GrpcGossipPeers(Supplier<List<DataNode>> dataNodes, PeerChannels channels, Duration callTimeout) {
    this.dataNodes = dataNodes;
    this.channels = channels;
    this.callTimeout = callTimeout;
  }

  @Override
  public Optional<String> address(String nodeId) {
    return dataNodes.get().stream().filter(n -> n.id().value().equals(nodeId)).map(DataNode::grpcAddress)
        .findFirst();
  }

  @Override
  public CompletableFuture<PropagationResponse> propagate(String address, PropagationRequest request) {
    return PeerFutures.unary(stub(address)::propagate, request);
  }

  @Override
  public CompletableFuture<Void> report(String address, RoundReport report) {
    return PeerFutures.unary(stub(address)::report, report).thenApply(ack -> null);
  }

  private GossipServiceGrpc.GossipServiceStub stub(String address) {
    return GossipServiceGrpc.newStub(channels.channel(address))
        .withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
  }
}
