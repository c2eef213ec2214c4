package dev.arbor.repair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.arbor.api.repair.v1.CoverageAck;
import dev.arbor.api.repair.v1.CoverageNotice;
import dev.arbor.api.repair.v1.CoverageServiceGrpc;
import dev.arbor.api.repair.v1.Finish;
import dev.arbor.api.repair.v1.GossipServiceGrpc;
import dev.arbor.api.repair.v1.PropagationContext;
import dev.arbor.api.repair.v1.PropagationRequest;
import dev.arbor.api.repair.v1.PropagationResponse;
import dev.arbor.api.repair.v1.RoundOutcome;
import dev.arbor.api.repair.v1.RoundReport;
import dev.arbor.api.repair.v1.LeafPage;
import dev.arbor.api.repair.v1.LeafRequest;
import dev.arbor.api.repair.v1.PropertyExchange;
import dev.arbor.api.repair.v1.RepairServiceGrpc;
import dev.arbor.api.repair.v1.SessionRequest;
import dev.arbor.api.repair.v1.SessionResponse;
import dev.arbor.api.repair.v1.TreeRoot;
import dev.arbor.property.PropertyRecord;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inputs of the repair protocols that the fuzz campaign ({@code dev.arbor.fuzz.RepairSessionFuzzTest}
 * and its siblings) found mishandled, each against a real data node over loopback gRPC.
 */
class RepairInputRegressionTest {
  private static final String G = "g";

  @TempDir Path dir;

  /** What one session stream got back. */
  private record Outcome(Status status, List<SessionResponse> responses) {}

  @Test
  void aHugeNameInARefusalReachesTheClientAsTheRefusalNotAsAnHttp2Error() throws Exception {
    try (RepairTestCluster c = new RepairTestCluster(dir, 1)) {
      c.group(G, 2, 1);
      Outcome o = session(c, root(G, 0), SessionRequest.newBuilder().setExchange(PropertyExchange.newBuilder()
          .addFetch("x".repeat(70_000))).build());
      // Was INTERNAL "http2 exception": the 70,000-character entity echoed in the description
      // overflowed the client's 8 KiB header-list limit.
      assertThat(o.status().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(o.status().getDescription()).startsWith("fetch: not an entity: xxx").hasSizeLessThan(600);
    }
  }

  @Test
  void maxItemsBeyondTwoToThe31IsAFullPageNotAnEmptyOneThatSaysMore() throws Exception {
    try (RepairTestCluster c = new RepairTestCluster(dir, 1)) {
      c.group(G, 1, 1);
      List<PropertyRecord> records = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        records.add(RepairTestCluster.record(G, "p" + i, 10, 0, "v"));
      }
      c.write("n1", 1, records);
      List<SessionRequest> script = new ArrayList<>(List.of(root(G, 0)));
      for (int slot = 0; slot < 32; slot++) {
        script.add(SessionRequest.newBuilder().setLeaves(LeafRequest.newBuilder().setSlot(slot)
            .setMaxItems(0x8000_0000)).build());
      }
      script.add(SessionRequest.newBuilder().setFinish(Finish.getDefaultInstance()).build());
      Outcome o = session(c, script.toArray(SessionRequest[]::new));
      assertThat(o.status().getCode()).isEqualTo(Status.Code.OK);
      int leaves = 0;
      for (SessionResponse r : o.responses().subList(1, 33)) {
        LeafPage p = r.getLeaves();
        // Was: max_items read as a negative int, so every page was empty with more = true.
        assertThat(p.getMore()).isFalse();
        leaves += p.getLeavesCount();
      }
      assertThat(leaves).isEqualTo(200);
    }
  }

  @Test
  void sessionsForGroupsOrShardsThatDoNotExistLeaveNoMetricSeries() throws Exception {
    try (RepairTestCluster c = new RepairTestCluster(dir, 1)) {
      c.group(G, 2, 1);
      for (TreeRoot.Builder r : List.of(TreeRoot.newBuilder().setGroup("made-up").setShard(0),
          TreeRoot.newBuilder().setGroup(G).setShard(2), TreeRoot.newBuilder().setGroup(G).setShard(-1))) {
        Outcome o = session(c, SessionRequest.newBuilder().setTreeRoot(r).build(),
            SessionRequest.newBuilder().setFinish(Finish.getDefaultInstance()).build());
        assertThat(o.responses().get(0).getRootCompare().getTreeFound()).isFalse();
      }
      session(c, root(G, 1), SessionRequest.newBuilder().setFinish(Finish.getDefaultInstance()).build());
      String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + c.nodes.get("n1").httpPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
      // Was: a series per made-up group and shard, kept for the life of the process.
      assertThat(metrics).contains("arbor_repair_sessions_total{group=\"g\",outcome=\"success\",role=\"server\","
          + "shard=\"1\"}").doesNotContain("made-up").doesNotContain("shard=\"2\"").doesNotContain("shard=\"-1\"");
    }
  }

  @Test
  void aReportWhoseOutcomeStatusIsNotInTheProtocolIsRefused() throws Exception {
    try (RepairTestCluster c = new RepairTestCluster(dir, 1)) {
      c.group(G, 2, 1);
      var gossip = GossipServiceGrpc.newBlockingStub(c.channel("n1")).withDeadlineAfter(30, TimeUnit.SECONDS);
      // Was: taken, and for a live round its status became a metric label and ended the round.
      assertThatThrownBy(() -> gossip.report(RoundReport.newBuilder().setRoundId("n1-1").setGroup(G)
          .setOutcome(RoundOutcome.newBuilder().setStatus("MADE-UP")).build()))
          .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("INVALID_ARGUMENT")
          .hasMessageContaining("outcome.status");
      gossip.report(RoundReport.newBuilder().setRoundId("n1-1").setGroup(G)
          .setOutcome(RoundOutcome.newBuilder().setStatus("FAILED")).build());
    }
  }

  @Test
  void aRoundFromAnOriginThatIsNotRegisteredIsCountedUnderUnregistered() throws Exception {
    try (RepairTestCluster c = new RepairTestCluster(dir, 1)) {
      c.group(G, 2, 1);
      PropagationResponse r = GossipServiceGrpc.newBlockingStub(c.channel("n1")).withDeadlineAfter(30, TimeUnit.SECONDS)
          .propagate(PropagationRequest.newBuilder().setGroup(G).setShard(0)
              .setContext(PropagationContext.newBuilder().addNodes("n1").addNodes("ghost").setMaxPropagationCount(1)
                  .setOriginNode("made-up-origin").setRoundId("r1")
                  .setDeadlineUnixMs(System.currentTimeMillis() + 60_000)).build());
      assertThat(r.getAccepted()).isTrue();
      // Was: a series per origin name a request carried, kept for the life of the process.
      String ended = "arbor_repair_gossip_rounds_ended_total{group=\"g\",origin=\"unregistered\",status=\"FAILED\"}";
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
          .until(() -> metrics(c).contains(ended));
      assertThat(metrics(c)).doesNotContain("made-up-origin");
    }
  }

  @Test
  void aCoverageNoticeFromTheFutureIsNotKept() throws Exception {
    try (RepairTestCluster c = new RepairTestCluster(dir, 1)) {
      c.group(G, 2, 1);
      var coverage = CoverageServiceGrpc.newBlockingStub(c.channel("n1")).withDeadlineAfter(30, TimeUnit.SECONDS);
      long now = System.currentTimeMillis() * 1_000_000L;
      CoverageNotice future = CoverageNotice.newBuilder().setGroup(G).setShard(0).addNodes("n1").addNodes("n2")
          .setRoundId("r-future").setOriginNode("n2").setRoundStartUnixNanos(now + 86_400_000_000_000L).build();
      CoverageAck ack = coverage.covered(future);
      // Was kept: every later round's notice was then "older" and refused, and the shard purged by
      // the grace alone, so deletes a replica missed could come back.
      assertThat(ack.getRecorded()).isFalse();
      assertThat(ack.getReason()).contains("ahead of this node's clock");
      assertThat(coverage.covered(future.toBuilder().setRoundId("r-now").setRoundStartUnixNanos(now).build())
          .getRecorded()).isTrue();
      assertThat(c.nodes.get("n1").coverageWatermarks().get(G, 0).orElseThrow().roundId()).isEqualTo("r-now");
    }
  }

  @Test
  void aClientThatStopsReadingIsNotAnsweredIntoAnUnboundedBuffer() throws Exception {
    try (RepairTestCluster c = new RepairTestCluster(dir, 1)) {
      c.group(G, 1, 1);
      List<PropertyRecord> records = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        records.add(RepairTestCluster.record(G, "p" + i, 10, 0, "v".repeat(10_000)));
      }
      c.write("n1", 1, records);
      var stream = new java.util.concurrent.atomic.AtomicReference<io.grpc.stub.ClientCallStreamObserver<SessionRequest>>();
      RepairServiceGrpc.newStub(c.channel("n1")).withDeadlineAfter(60, TimeUnit.SECONDS).repair(
          new io.grpc.stub.ClientResponseObserver<SessionRequest, SessionResponse>() {
            @Override
            public void beforeStart(io.grpc.stub.ClientCallStreamObserver<SessionRequest> s) {
              s.disableAutoRequestWithInitial(0); // never reads
              stream.set(s);
            }

            @Override
            public void onNext(SessionResponse r) {}

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
          });
      stream.get().onNext(root(G, 0));
      // 13 passes over the 32 slots: about 26 MiB of record pages if every request were answered.
      for (int i = 0; i < 13 * 32; i++) {
        stream.get().onNext(SessionRequest.newBuilder().setLeaves(LeafRequest.newBuilder().setSlot(i % 32)
            .setRecords(true)).build());
      }
      // An observation window, not a wait for a condition: the property is that the server does NOT
      // keep answering into its send buffer, and nothing signals "it would have by now". The
      // figure is read from the metric the session records when it ends (after the cancel).
      Thread.sleep(2_000);
      stream.get().cancel("gave up", null);
      String sent = "arbor_repair_session_bytes_sent_total{group=\"g\",role=\"server\",shard=\"0\"} ";
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> metrics(c).contains(sent));
      String line = metrics(c).lines().filter(l -> l.startsWith(sent)).findFirst().orElseThrow();
      double bytes = Double.parseDouble(line.substring(sent.length()).trim());
      // Was: every request answered into gRPC's unbounded send buffer (the whole 26 MiB here; a
      // client could make a node hold any amount). Now the node stops reading once the client's
      // flow-control window is full: about 1 MiB and a page.
      assertThat(bytes).isGreaterThan(0).isLessThan(8 << 20);
    }
  }

  private static String metrics(RepairTestCluster c) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + c.nodes.get("n1").httpPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  private static SessionRequest root(String group, int shard) {
    return SessionRequest.newBuilder().setTreeRoot(TreeRoot.newBuilder().setGroup(group).setShard(shard)
        .setSlotCount(32).setRoot(ByteString.copyFrom(new byte[64])).setTreeFormat(dev.arbor.repair.tree.TreeFileReader.CURRENT_FORMAT)).build();
  }

  private static Outcome session(RepairTestCluster c, SessionRequest... script) throws Exception {
    List<SessionResponse> got = new ArrayList<>();
    CompletableFuture<Status> end = new CompletableFuture<>();
    StreamObserver<SessionRequest> req = RepairServiceGrpc.newStub(c.channel("n1"))
        .withDeadlineAfter(30, TimeUnit.SECONDS).repair(new StreamObserver<>() {
          @Override
          public void onNext(SessionResponse r) {
            got.add(r);
          }

          @Override
          public void onError(Throwable t) {
            end.complete(Status.fromThrowable(t));
          }

          @Override
          public void onCompleted() {
            end.complete(Status.OK);
          }
        });
    for (SessionRequest r : script) {
      req.onNext(r);
    }
    req.onCompleted();
    Status s = end.get(40, TimeUnit.SECONDS);
    return new Outcome(s, List.copyOf(got));
  }
}
