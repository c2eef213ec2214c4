package dev.arbor.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Calls a member has open on a data node's internal listener when it leaves the registry (mutual
 * TLS with certificates made in the test, real gRPC over loopback): a unary call in flight — here
 * a Write whose caller has not finished sending its request — and a repair session are both
 * closed with PERMISSION_DENIED, counted as evictions apart from the refusals at admission; so is
 * a session of a member whose registration changes to roles that may not repair.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InternalEvictionTest {
  @TempDir static Path dir;

  private MtlsDataNode n1;
  private EmbeddedNodeRegistry registry;
  private DataNodeServer node;

  @BeforeAll
  void start() throws Exception {
    n1 = MtlsDataNode.start(dir);
    node = n1.node();
    registry = n1.registry();
  }

  private ManagedChannel channelAs(String nodeId) throws Exception {
    return n1.channelAs(nodeId);
  }

  @AfterAll
  void stop() {
    n1.close();
  }

  @Test
  void aUnaryCallInFlightOfAMemberThatLeavesIsClosed() throws Exception {
    registry.register(RegisteredNode.of("n5", "127.0.0.1:5", Set.of("liaison")), Duration.ofMinutes(1));
    ManagedChannel asN5 = channelAs("n5");
    // Admitted, its request not yet sent: the server holds the unary call open waiting for it. (Started
    // as a stream on this side only so the headers leave at once: a unary client call holds them back
    // until the request is complete; the server knows Write as unary whatever the caller thinks.)
    CompletableFuture<Status> closed = new CompletableFuture<>();
    ClientCall<byte[], byte[]> write = RawCalls.start(asN5, DataNodeServiceGrpc.getWriteMethod().getFullMethodName(),
        MethodDescriptor.MethodType.BIDI_STREAMING, closed);
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
        .untilAsserted(() -> assertThat(metric("arbor_internal_calls_open", "")).isEqualTo(1.0));
    assertThat(metric("arbor_internal_streams_open", "")).isZero();
    double refusedBefore = metric("arbor_internal_calls_refused_total", "reason=\"unknown_member\",?");
    double evictedBefore = metric("arbor_internal_calls_evicted_total", "reason=\"unknown_member\",?");
    assertThat(closed).isNotDone();

    registry.deregister("n5");

    Status status = closed.get(10, TimeUnit.SECONDS);
    assertThat(status.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(status.getDescription()).isEqualTo("node 'n5' is not a registered member of this cluster");
    assertThat(metric("arbor_internal_calls_open", "")).isZero();
    assertThat(metric("arbor_internal_calls_evicted_total", "reason=\"unknown_member\",?"))
        .isEqualTo(evictedBefore + 1);
    assertThat(metric("arbor_internal_calls_refused_total", "reason=\"unknown_member\",?")).isEqualTo(refusedBefore);
    // The request the caller sends late reaches no handler: the call stays closed as it was.
    write.sendMessage(new byte[0]);
    write.halfClose();
    assertThat(closed.get()).isSameAs(status);
  }

  @Test
  void aRepairSessionEvictedIsCountedAsAnEvictionNotARefusal() throws Exception {
    registry.register(RegisteredNode.of("n6", "127.0.0.1:6", Set.of("data")), Duration.ofMinutes(1));
    ManagedChannel asN6 = channelAs("n6");
    CompletableFuture<Status> closed = new CompletableFuture<>();
    ClientCall<?, ?> session = RawCalls.start(asN6, RepairServiceGrpc.getRepairMethod().getFullMethodName(),
        MethodDescriptor.MethodType.BIDI_STREAMING, closed);
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
        .untilAsserted(() -> assertThat(metric("arbor_internal_streams_open", "")).isEqualTo(1.0));
    double refusedBefore = metric("arbor_internal_calls_refused_total", "reason=\"unknown_member\",?");
    double evictedBefore = metric("arbor_internal_calls_evicted_total", "reason=\"unknown_member\",?");

    registry.deregister("n6");

    assertThat(closed.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(metric("arbor_internal_calls_evicted_total", "reason=\"unknown_member\",?"))
        .isEqualTo(evictedBefore + 1);
    assertThat(metric("arbor_internal_calls_refused_total", "reason=\"unknown_member\",?")).isEqualTo(refusedBefore);
    assertThat(metric("arbor_internal_streams_open", "")).isZero();
    session.cancel("done", null);
  }

  @Test
  void aRepairSessionOfAMemberThatLosesTheDataRoleIsClosed() throws Exception {
    registry.register(RegisteredNode.of("n7", "127.0.0.1:7", Set.of("data")), Duration.ofMinutes(1));
    ManagedChannel asN7 = channelAs("n7");
    CompletableFuture<Status> closed = new CompletableFuture<>();
    ClientCall<?, ?> session = RawCalls.start(asN7, RepairServiceGrpc.getRepairMethod().getFullMethodName(),
        MethodDescriptor.MethodType.BIDI_STREAMING, closed);
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
        .untilAsserted(() -> assertThat(metric("arbor_internal_streams_open", "")).isEqualTo(1.0));
    double roleBefore = metric("arbor_internal_calls_evicted_total", "reason=\"role\",?");
    double unknownBefore = metric("arbor_internal_calls_evicted_total", "reason=\"unknown_member\",?");

    // Still a member, now as a liaison only: repair sessions are for data nodes.
    registry.update(RegisteredNode.of("n7", "127.0.0.1:7", Set.of("liaison")));

    Status status = closed.get(10, TimeUnit.SECONDS);
    assertThat(status.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(status.getDescription()).startsWith("node 'n7' is registered as [liaison], and only [data] may call ")
        .contains(RepairServiceGrpc.getRepairMethod().getFullMethodName());
    assertThat(metric("arbor_internal_calls_evicted_total", "reason=\"role\",?")).isEqualTo(roleBefore + 1);
    assertThat(metric("arbor_internal_calls_evicted_total", "reason=\"unknown_member\",?")).isEqualTo(unknownBefore);
    assertThat(metric("arbor_internal_streams_open", "")).isZero();
    session.cancel("done", null);
    registry.deregister("n7");
  }

  private double metric(String name, String labels) throws Exception {
    return n1.metric(name, labels);
  }
}
