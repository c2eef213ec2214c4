package dev.arbor.repair.coverage;

import dev.arbor.api.repair.v1.CoverageAck;
import dev.arbor.api.repair.v1.CoverageNotice;
import dev.arbor.api.repair.v1.CoverageServiceGrpc;
import dev.arbor.cluster.PeerChannels;
import dev.arbor.transport.PeerFutures;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** {@link CoveragePeers} over gRPC (an async stub), each call with a deadline. */
public final class GrpcCoveragePeers implements CoveragePeers {
  private final PeerChannels channels;
  private final Duration callTimeout;

  public GrpcCoveragePeers(PeerChannels channels, Duration callTimeout) {
    this.channels = channels;
    this.callTimeout = callTimeout;
  }

  @Override
  public CompletableFuture<CoverageAck> covered(String address, CoverageNotice notice) {
    return PeerFutures.unary(CoverageServiceGrpc.newStub(channels.channel(address))
        .withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS)::covered, notice);
  }
}
