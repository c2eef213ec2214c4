package dev.arbor.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.console.v1.ConsoleStatusServiceGrpc;
import dev.arbor.api.repair.v1.CoverageServiceGrpc;
import dev.arbor.api.repair.v1.GossipServiceGrpc;
import dev.arbor.api.repair.v1.RepairAdminServiceGrpc;
import dev.arbor.api.repair.v1.RepairServiceGrpc;
import dev.arbor.metadata.EmbeddedNodeRegistry;
import dev.arbor.metadata.RegisteredNode;
import dev.arbor.server.DataNodeServer;
import dev.arbor.testing.RawCalls;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Members told apart by role on a data node's internal listener (mutual TLS, certificates made in
 * the test, real gRPC over loopback): a data node may call every internal method, a liaison the
 * data-node reads and writes, traces and its console's calls; its calls of the repair session,
 * gossip or coverage are PERMISSION_DENIED naming the reason and counted under
 * {@code reason="role"}. A member's open repair session ends when it
 * leaves the registry.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InternalRolesTest {
  @TempDir static Path dir;

  private MtlsDataNode n1;
  private EmbeddedNodeRegistry registry;
  private DataNodeServer node;
  private ManagedChannel asData;
  private ManagedChannel asLiaison;

  @BeforeAll
  void start() throws Exception {
    n1 = MtlsDataNode.start(dir);
    node = n1.node();
    registry = n1.registry();
    registry.register(RegisteredNode.of("n2", "127.0.0.1:1", Set.of("data")), Duration.ofMinutes(1));
    registry.register(RegisteredNode.of("liaison-1", "127.0.0.1:2", Set.of("liaison")), Duration.ofMinutes(1));
    asData = channelAs("n2");
    asLiaison = channelAs("liaison-1");
  }

  private ManagedChannel channelAs(String nodeId) throws Exception {
    return n1.channelAs(nodeId);
  }

  @AfterAll
  void stop() {
    n1.close();
  }

  /** Every method of the internal listener, and whether a liaison may call it. */
  static Stream<Arguments> internalMethods() {
    return Stream.of(
        Arguments.of(DataNodeServiceGrpc.getWriteMethod(), true),
        Arguments.of(DataNodeServiceGrpc.getReadMethod(), true),
        Arguments.of(DataNodeServiceGrpc.getQueryShardsMethod(), true),
        Arguments.of(RepairServiceGrpc.getRepairMethod(), false),
        Arguments.of(GossipServiceGrpc.getPropagateMethod(), false),
        Arguments.of(GossipServiceGrpc.getReportMethod(), false),
        Arguments.of(CoverageServiceGrpc.getCoveredMethod(), false),
        Arguments.of(RepairAdminServiceGrpc.getTracesMethod(), true),
        Arguments.of(RepairAdminServiceGrpc.getRunRepairMethod(), true),
        Arguments.of(ConsoleStatusServiceGrpc.getTreeStatusMethod(), true));
  }

  @ParameterizedTest(name = "{0}: liaison allowed = {1}")
  @MethodSource("internalMethods")
  void eachRoleAgainstEachInternalMethod(MethodDescriptor<?, ?> method, boolean liaisonAllowed) throws Exception {
    // A data node reaches the handler (which may well reject the empty request; the role check
    // is what is asserted here).
    assertThat(RawCalls.callWithEmptyRequest(asData, method.getFullMethodName(), method.getType()).getCode()).isNotEqualTo(Status.Code.PERMISSION_DENIED);

    double before = refused("role");
    Status liaison = RawCalls.callWithEmptyRequest(asLiaison, method.getFullMethodName(), method.getType());
    if (liaisonAllowed) {
      assertThat(liaison.getCode()).isNotEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(refused("role")).isEqualTo(before);
    } else {
      assertThat(liaison.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(liaison.getDescription()).isEqualTo("node 'liaison-1' is registered as [liaison], and only [data]"
          + " may call " + method.getFullMethodName() + " on the internal listener");
      assertThat(refused("role")).isEqualTo(before + 1);
    }
  }

  @Test
  void aRepairSessionOfAMemberThatLeavesIsClosed() throws Exception {
    registry.register(RegisteredNode.of("n3", "127.0.0.1:3", Set.of("data")), Duration.ofMinutes(1));
    ManagedChannel asN3 = channelAs("n3");
    // Opened and left waiting: no request sent, the session handler holds the stream open.
    CompletableFuture<Status> closed = new CompletableFuture<>();
    ClientCall<?, ?> session = RawCalls.start(asN3, RepairServiceGrpc.getRepairMethod().getFullMethodName(),
        MethodDescriptor.MethodType.BIDI_STREAMING, closed);
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
        .untilAsserted(() -> assertThat(metric("arbor_internal_streams_open", "")).isEqualTo(1.0));
    assertThat(closed).isNotDone();

    registry.deregister("n3");

    Status status = closed.get(10, TimeUnit.SECONDS);
    assertThat(status.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(status.getDescription()).isEqualTo("node 'n3' is not a registered member of this cluster");
    assertThat(metric("arbor_internal_streams_open", "")).isZero();
    session.cancel("done", null);
  }

  private double refused(String reason) throws Exception {
    return metric("arbor_internal_calls_refused_total", "reason=\"" + reason + "\",?");
  }

  private double metric(String name, String labels) throws Exception {
    return n1.metric(name, labels);
  }
}
