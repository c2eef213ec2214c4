package dev.arbor.fuzz;

import dev.arbor.api.repair.v1.CoverageAck;
import dev.arbor.api.repair.v1.CoverageNotice;
import dev.arbor.api.repair.v1.CoverageServiceGrpc;
import dev.arbor.api.repair.v1.GossipServiceGrpc;
import dev.arbor.api.repair.v1.PropagationRequest;
import dev.arbor.api.repair.v1.PropagationResponse;
import dev.arbor.api.repair.v1.RoundReport;
import dev.arbor.api.repair.v1.RoundReportAck;
import dev.arbor.transport.BareServers;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The second replica of the fuzzed node, as a stub on loopback: it takes every round handed to it
 * and never reports (so a round the node under test started stays open for fuzzed reports), keeps
 * the reports and coverage notices the node sends it, and serves no repair sessions.
 */
final class StubPeer implements AutoCloseable {
  private final List<RoundReport> reports = new CopyOnWriteArrayList<>();
  private final List<PropagationRequest> propagated = new CopyOnWriteArrayList<>();
  private final List<CoverageNotice> notices = new CopyOnWriteArrayList<>();
  private final Server server;

  StubPeer() throws IOException {
    server = BareServers.start("127.0.0.1", 0, new GossipServiceGrpc.GossipServiceImplBase() {
          @Override
          public void propagate(PropagationRequest req, StreamObserver<PropagationResponse> out) {
            propagated.add(req);
            out.onNext(PropagationResponse.newBuilder().setAccepted(true).build());
            out.onCompleted();
          }

          @Override
          public void report(RoundReport r, StreamObserver<RoundReportAck> out) {
            reports.add(r);
            out.onNext(RoundReportAck.getDefaultInstance());
            out.onCompleted();
          }
        }, new CoverageServiceGrpc.CoverageServiceImplBase() {
          @Override
          public void covered(CoverageNotice n, StreamObserver<CoverageAck> out) {
            notices.add(n);
            out.onNext(CoverageAck.newBuilder().setRecorded(true).build());
            out.onCompleted();
          }
        });
  }

  String address() {
    return "127.0.0.1:" + server.getPort();
  }

  /** Reports of rounds the node under test handled for an origin named as this peer. */
  List<RoundReport> reports() {
    return reports;
  }

  List<PropagationRequest> propagated() {
    return propagated;
  }

  List<CoverageNotice> notices() {
    return notices;
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
  }
}
