package dev.arbor.observability.trace;

import static dev.arbor.observability.trace.Spans.agoNanos;
import static dev.arbor.observability.trace.Spans.span;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.api.repair.v1.RepairAdminServiceGrpc;
import dev.arbor.api.repair.v1.Span;
import dev.arbor.api.repair.v1.TracesRequest;
import dev.arbor.api.repair.v1.TracesResponse;
import dev.arbor.cluster.DataNode;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.BareServers;
import dev.arbor.transport.MessageLimits;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link TraceQuery} across three data nodes talking real gRPC on loopback. */
class TraceQueryTest {
  @TempDir Path dir;

  private final List<DataNode> cluster = new CopyOnWriteArrayList<>();
  private final List<TraceNode> nodes = new ArrayList<>();
  private final List<AutoCloseable> extra = new ArrayList<>();
  private TraceNode n1;
  private TraceNode n2;
  private TraceNode n3;
  private long base;

  @BeforeEach
  void startNodes() throws IOException {
    n1 = node("n1");
    n2 = node("n2");
    n3 = node("n3");
    // A whole millisecond, so millisecond "since" bounds fall exactly on span starts.
    base = agoNanos(Duration.ofMinutes(10)) / 1_000_000 * 1_000_000;
    // One round hopping n1 -> n2 -> n3, plus another trace on n2.
    n1.store().record(span("ui_1_n1_1", "n1_a", "n1", "ui", base));
    n2.store().record(span("ui_1_n1_1", "n2_a", "n2", "ui", base + 1_000_000));
    n3.store().record(span("ui_1_n1_1", "n3_a", "n3", "ui", base + 2_000_000));
    n2.store().record(span("ui_0_n2_9", "n2_b", "n2", "ui", base + 500_000));
  }

  @AfterEach
  void stopNodes() throws Exception {
    for (TraceNode n : nodes) {
      n.close();
    }
    for (AutoCloseable c : extra) {
      c.close();
    }
  }

  @Test
  void clusterWideMergesTheSpansOfOneTraceFromEveryNode() {
    TracesResponse r = n1.query().query(request().setTraceId("ui_1_n1_1").setClusterWide(true).build());

    assertThat(r.getSpansList()).extracting(Span::getSpanId).containsExactly("n1_a", "n2_a", "n3_a");
    assertThat(r.getSpansList()).extracting(Span::getNodeId).containsExactly("n1", "n2", "n3");
    assertThat(r.getUnreachableNodesList()).isEmpty();
  }

  @Test
  void withoutClusterWideOnlyLocalSpansAreReturned() {
    TracesResponse r = n2.query().query(request().build());
    assertThat(r.getSpansList()).extracting(Span::getSpanId).containsExactly("n2_b", "n2_a");
  }

  @Test
  void duplicatesAreMergedAndTheLimitAppliesToTheMergedList() {
    // The same span known to two nodes (e.g. a copy that was forwarded) is returned once.
    n3.store().record(span("ui_1_n1_1", "n2_a", "n2", "ui", base + 1_000_000));

    TracesResponse all = n1.query().query(request().setClusterWide(true).build());
    assertThat(all.getSpansList()).extracting(Span::getSpanId).containsExactly("n1_a", "n2_b", "n2_a", "n3_a");

    TracesResponse two = n1.query().query(request().setClusterWide(true).setLimit(2).build());
    assertThat(two.getSpansList()).extracting(Span::getSpanId).containsExactly("n1_a", "n2_b");
  }

  @Test
  void aStoppedPeerIsListedUnreachableAndTheOthersStillAnswer() throws InterruptedException {
    n3.stopServer();

    TracesResponse r = n1.query().query(request().setTraceId("ui_1_n1_1").setClusterWide(true).build());

    assertThat(r.getSpansList()).extracting(Span::getSpanId).containsExactly("n1_a", "n2_a");
    assertThat(r.getUnreachableNodesList()).containsExactly("n3");
  }

  @Test
  void aPeerThatNeverAnswersIsCutOffByTheDeadline() throws IOException {
    Server silent = BareServers.start("127.0.0.1", 0, new RepairAdminServiceGrpc.RepairAdminServiceImplBase() {
          @Override
          public void traces(TracesRequest request, StreamObserver<TracesResponse> observer) {
            // Never answers.
          }
        });
    extra.add(() -> silent.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    // Only the silent peer: a short deadline must not race the real nodes on a loaded machine.
    List<DataNode> withSilent = List.of(n1.node(), DataNode.of("silent", "127.0.0.1:" + silent.getPort()));
    TraceQuery quick = new TraceQuery("n1", n1.store(), () -> withSilent, Duration.ofMillis(300));
    extra.add(quick);

    TracesResponse r = quick.query(request().setClusterWide(true).build());

    assertThat(r.getUnreachableNodesList()).containsExactly("silent");
    assertThat(r.getSpansList()).extracting(Span::getSpanId).containsExactly("n1_a");
  }

  @Test
  void invalidFieldsAreRejectedNamingTheField() {
    assertThatThrownBy(() -> n1.query().query(request().setSinceUnixMs(-1).build()))
        .isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("since_unix_ms must be >= 0");
    assertThatThrownBy(() -> n1.query().query(request().setLimit(TraceQuery.MAX_LIMIT + 1).build()))
        .isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("limit must be <= " + TraceQuery.MAX_LIMIT);
  }

  @Test
  void overGrpcAnInvalidRequestIsInvalidArgument() throws InterruptedException {
    ManagedChannel ch = ChannelFactory.plaintext().open(n1.target(), MessageLimits.MAX_MESSAGE_BYTES);
    try {
      assertThatThrownBy(() -> RepairAdminServiceGrpc.newBlockingStub(ch)
              .traces(request().setSinceUnixMs(-5).setClusterWide(true).build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains("since_unix_ms");
          });
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void sinceFiltersAcrossNodes() {
    long sinceMs = (base + 1_000_000) / 1_000_000;
    TracesResponse r = n3.query().query(request().setSinceUnixMs(sinceMs).setClusterWide(true).build());
    assertThat(r.getSpansList()).extracting(Span::getSpanId).containsExactly("n2_a", "n3_a");
  }

  private TraceNode node(String id) throws IOException {
    TraceNode n = new TraceNode(id, dir, () -> cluster, Duration.ofSeconds(5));
    nodes.add(n);
    cluster.add(n.node());
    return n;
  }

  private static TracesRequest.Builder request() {
    return TracesRequest.newBuilder();
  }
}
