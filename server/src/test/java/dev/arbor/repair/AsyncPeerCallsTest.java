package dev.arbor.repair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.repair.v1.CoverageAck;
import dev.arbor.api.repair.v1.CoverageNotice;
import dev.arbor.api.repair.v1.PropagationRequest;
import dev.arbor.api.repair.v1.PropagationResponse;
import dev.arbor.api.repair.v1.RoundReport;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.PeerChannels;
import dev.arbor.repair.coverage.GrpcCoveragePeers;
import dev.arbor.testing.SilentPeer;
import dev.arbor.transport.PeerFutures;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The gossip and coverage calls to peers are asynchronous: they return before the peer answers,
 * and fail with the gRPC status a blocking stub threw (the protocol code logs and counts those) —
 * against a real peer on loopback that never answers, and a port nobody listens on.
 */
class AsyncPeerCallsTest {
  /** Long enough that a call still pending right after it was made cannot be a slow machine's doing. */
  private static final Duration TIMEOUT = Duration.ofSeconds(3);

  @Test
  void gossipAndCoverageCallsToAHungPeerReturnAtOnceAndFailAtTheirDeadline() throws Exception {
    try (SilentPeer peer = new SilentPeer(); PeerChannels channels = new PeerChannels(4 << 20)) {
      GrpcGossipPeers gossip = new GrpcGossipPeers(() -> List.of(DataNode.of("p", peer.address())), channels, TIMEOUT);
      GrpcCoveragePeers coverage = new GrpcCoveragePeers(channels, TIMEOUT);
      assertThat(gossip.address("p")).contains(peer.address());

      CompletableFuture<PropagationResponse> propagate =
          gossip.propagate(peer.address(), PropagationRequest.newBuilder().setGroup("g").build());
      CompletableFuture<Void> report = gossip.report(peer.address(), RoundReport.newBuilder().setRoundId("r").build());
      CompletableFuture<CoverageAck> covered =
          coverage.covered(peer.address(), CoverageNotice.newBuilder().setGroup("g").build());
      assertThat(List.of(propagate, report, covered)).as("no call waits for the peer")
          .noneMatch(CompletableFuture::isDone);

      await().atMost(Duration.ofSeconds(20)).until(() -> propagate.isDone() && report.isDone() && covered.isDone());
      for (CompletableFuture<?> f : List.of(propagate, report, covered)) {
        assertThatThrownBy(() -> PeerFutures.await(f)).isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
      }
    }
  }

  @Test
  void callsToAPortNobodyListensOnFailUnavailable() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String address = "127.0.0.1:" + port;
    try (PeerChannels channels = new PeerChannels(4 << 20)) {
      GrpcGossipPeers gossip = new GrpcGossipPeers(List::of, channels, TIMEOUT);
      assertThat(gossip.address("p")).as("not registered").isEmpty();
      CompletableFuture<PropagationResponse> propagate =
          gossip.propagate(address, PropagationRequest.getDefaultInstance());
      CompletableFuture<CoverageAck> covered =
          new GrpcCoveragePeers(channels, TIMEOUT).covered(address, CoverageNotice.getDefaultInstance());
      for (CompletableFuture<?> f : List.of(propagate, covered)) {
        await().atMost(Duration.ofSeconds(20)).until(f::isDone);
        assertThatThrownBy(() -> PeerFutures.await(f)).isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
      }
    }
  }
}
