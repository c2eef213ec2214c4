package dev.arbor.testing;

import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.cluster.v1.QueryShardsRequest;
import dev.arbor.api.cluster.v1.QueryShardsResponse;
import dev.arbor.api.cluster.v1.ReadRequest;
import dev.arbor.api.cluster.v1.ReadResponse;
import dev.arbor.api.cluster.v1.WriteRequest;
import dev.arbor.api.cluster.v1.WriteResponse;
import dev.arbor.api.repair.v1.CoverageAck;
import dev.arbor.api.repair.v1.CoverageNotice;
import dev.arbor.api.repair.v1.CoverageServiceGrpc;
import dev.arbor.api.repair.v1.GossipServiceGrpc;
import dev.arbor.api.repair.v1.PropagationRequest;
import dev.arbor.api.repair.v1.PropagationResponse;
import dev.arbor.api.repair.v1.RepairServiceGrpc;
import dev.arbor.api.repair.v1.RoundReport;
import dev.arbor.api.repair.v1.RoundReportAck;
import dev.arbor.api.repair.v1.SessionRequest;
import dev.arbor.api.repair.v1.SessionResponse;
import dev.arbor.transport.BareServers;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * A peer on loopback that takes every internal call (data node Write/Read/QueryShards, gossip,
 * coverage, the repair session) and never answers: a real hung node, as far as the caller's
 * transport can tell.
 */
public final class SilentPeer implements AutoCloseable {
  private final Server server;

  public SilentPeer() throws IOException {
    server = BareServers.start("127.0.0.1", 0, new DataNodeServiceGrpc.DataNodeServiceImplBase() {
          @Override
          public void write(WriteRequest r, StreamObserver<WriteResponse> out) {
            // never answers
          }

          @Override
          public void read(ReadRequest r, StreamObserver<ReadResponse> out) {
            // never answers
          }

          @Override
          public void queryShards(QueryShardsRequest r, StreamObserver<QueryShardsResponse> out) {
            // never answers
          }
        }, new GossipServiceGrpc.GossipServiceImplBase() {
          @Override
          public void propagate(PropagationRequest r, StreamObserver<PropagationResponse> out) {
            // never answers
          }

          @Override
          public void report(RoundReport r, StreamObserver<RoundReportAck> out) {
            // never answers
          }
        }, new CoverageServiceGrpc.CoverageServiceImplBase() {
          @Override
          public void covered(CoverageNotice n, StreamObserver<CoverageAck> out) {
            // never answers
          }
        }, new RepairServiceGrpc.RepairServiceImplBase() {
          @Override
          public StreamObserver<SessionRequest> repair(StreamObserver<SessionResponse> out) {
            return new StreamObserver<>() {
              @Override
              public void onNext(SessionRequest r) {
                // never answers
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {}
            };
          }
        });
  }

  /** {@code host:port} of the peer. */
  public String address() {
    return "127.0.0.1:" + server.getPort();
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
  }
}
