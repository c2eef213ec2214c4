package dev.arbor.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.admin.v1.TreeAdminServiceGrpc;
import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.repair.v1.CoverageServiceGrpc;
import dev.arbor.api.repair.v1.GossipServiceGrpc;
import dev.arbor.api.repair.v1.RepairAdminServiceGrpc;
import dev.arbor.api.repair.v1.RepairServiceGrpc;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.EmbeddedNodeRegistry;
import dev.arbor.property.HybridClock;
import dev.arbor.server.DataNodeServer;
import dev.arbor.server.RepairConfig;
import dev.arbor.server.ServerConfig;
import dev.arbor.testing.RawCalls;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.ClientSecurity;
import dev.arbor.transport.Credentials;
import dev.arbor.transport.HttpAuth;
import dev.arbor.transport.Role;
import dev.arbor.transport.SecurityConfig;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A data node's two listeners: the admin one serves only what operators call, each RPC to users
 * of role {@code admin} only; the internal one serves only what peers call (trace queries
 * included, running repair or building trees not).
 */
class DataNodeListenersTest {
  private static final List<ServiceDescriptor> ADMIN =
      List.of(RepairAdminServiceGrpc.getServiceDescriptor(), TreeAdminServiceGrpc.getServiceDescriptor());
  private static final List<ServiceDescriptor> INTERNAL = List.of(DataNodeServiceGrpc.getServiceDescriptor(),
      RepairServiceGrpc.getServiceDescriptor(), GossipServiceGrpc.getServiceDescriptor(),
      CoverageServiceGrpc.getServiceDescriptor(),
      dev.arbor.api.console.v1.ConsoleStatusServiceGrpc.getServiceDescriptor());

  @TempDir static Path dir;
  private static EmbeddedMetadataStore metadata;
  private static DataNodeServer node;
  private static final Map<Role, ManagedChannel> AS = new EnumMap<>(Role.class);
  private static final List<ManagedChannel> CHANNELS = new ArrayList<>();

  @BeforeAll
  static void start() throws IOException {
    Path users = SecureStandalone.writeUsers(dir.resolve("users.yaml"), """
        users:
          - {username: reader, password: r-pw, role: read}
          - {username: writer, password: w-pw, role: write}
          - {username: ops, password: a-pw, role: admin}
        """);
    RepairConfig repair = new RepairConfig("off", Duration.ofMinutes(1), Duration.ofMinutes(1), Duration.ofHours(1),
        Duration.ofDays(1));
    metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system());
    node = DataNodeServer.start("n1", ServerConfig.defaults(dir.resolve("n1")).withHost("127.0.0.1").withPorts(0, 0)
            .withRepair(repair), metadata, new EmbeddedNodeRegistry(), "127.0.0.1", Duration.ofMinutes(1),
        new SecurityConfig(null, users, HttpAuth.PROTECTED, Duration.ofSeconds(10)));
    AS.put(Role.READ, admin(new Credentials("reader", "r-pw")));
    AS.put(Role.WRITE, admin(new Credentials("writer", "w-pw")));
    AS.put(Role.ADMIN, admin(new Credentials("ops", "a-pw")));
  }

  private static ManagedChannel admin(Credentials c) {
    ManagedChannel ch = ChannelFactory.of(ClientSecurity.PLAINTEXT.withCredentials(c))
        .open("127.0.0.1:" + node.grpcPort(), 1 << 20);
    CHANNELS.add(ch);
    return ch;
  }

  @AfterAll
  static void stop() {
    CHANNELS.forEach(ManagedChannel::shutdownNow);
    node.close();
    metadata.close();
  }

  static List<Arguments> adminCases() {
    List<Arguments> out = new ArrayList<>();
    for (ServiceDescriptor s : ADMIN) {
      for (MethodDescriptor<?, ?> m : s.getMethods()) {
        for (Role role : Role.values()) {
          out.add(Arguments.of(m.getFullMethodName(), m.getType(), role));
        }
      }
    }
    return out;
  }

  @ParameterizedTest(name = "{2} calls {0} on the admin listener")
  @MethodSource("adminCases")
  void everyAdminRpcNeedsTheAdminRole(String method, MethodDescriptor.MethodType type, Role role) throws Exception {
    Status status = RawCalls.callWithEmptyRequest(AS.get(role), method, type);
    if (role == Role.ADMIN) {
      assertThat(status.getCode()).as("%s as admin", method).isNotIn(Status.Code.PERMISSION_DENIED,
          Status.Code.UNAUTHENTICATED, Status.Code.UNIMPLEMENTED);
    } else {
      assertThat(status.getCode()).as("%s as %s", method, role).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(status.getDescription()).contains("needs admin");
    }
  }

  @Test
  void missingOrWrongCredentialsAreUnauthenticated() throws Exception {
    String method = RepairAdminServiceGrpc.getTracesMethod().getFullMethodName();
    MethodDescriptor.MethodType type = RepairAdminServiceGrpc.getTracesMethod().getType();
    ManagedChannel anonymous = ChannelFactory.plaintext().open("127.0.0.1:" + node.grpcPort(), 1 << 20);
    CHANNELS.add(anonymous);
    assertThat(RawCalls.callWithEmptyRequest(anonymous, method, type).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(RawCalls.callWithEmptyRequest(admin(new Credentials("ops", "wrong")), method, type).getCode())
        .isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(RawCalls.callWithEmptyRequest(admin(new Credentials("nobody", "a-pw")), method, type).getCode())
        .isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  @Test
  void eachListenerServesOnlyItsOwnServices() throws Exception {
    for (ServiceDescriptor s : INTERNAL) {
      for (MethodDescriptor<?, ?> m : s.getMethods()) {
        assertThat(RawCalls.callWithEmptyRequest(AS.get(Role.ADMIN), m.getFullMethodName(), m.getType()).getCode())
            .as("%s on the admin listener", m.getFullMethodName()).isEqualTo(Status.Code.UNIMPLEMENTED);
      }
    }
    // Loopback and plaintext here: the internal listener lets anyone through, so only what it serves counts.
    ManagedChannel internal = ChannelFactory.plaintext().open("127.0.0.1:" + node.internalPort(), 1 << 20);
    CHANNELS.add(internal);
    // Traces: peers merge their spans; RunRepair: a liaison's console starts rounds.
    Set<String> servedToPeers = Set.of(RepairAdminServiceGrpc.getTracesMethod().getFullMethodName(),
        RepairAdminServiceGrpc.getRunRepairMethod().getFullMethodName());
    for (ServiceDescriptor s : ADMIN) {
      for (MethodDescriptor<?, ?> m : s.getMethods()) {
        Status.Code code = RawCalls.callWithEmptyRequest(internal, m.getFullMethodName(), m.getType()).getCode();
        if (m.getFullMethodName().equals(RepairAdminServiceGrpc.getRunRepairMethod().getFullMethodName())) {
          // Served: the empty request names no group.
          assertThat(code).as("%s on the internal listener", m.getFullMethodName())
              .isEqualTo(Status.Code.INVALID_ARGUMENT);
        } else if (servedToPeers.contains(m.getFullMethodName())) {
          assertThat(code).as("%s on the internal listener", m.getFullMethodName()).isEqualTo(Status.Code.OK);
        } else {
          assertThat(code).as("%s on the internal listener", m.getFullMethodName())
              .isEqualTo(Status.Code.UNIMPLEMENTED);
        }
      }
    }
    for (ServiceDescriptor s : INTERNAL) {
      MethodDescriptor<?, ?> m = s.getMethods().iterator().next();
      assertThat(RawCalls.callWithEmptyRequest(internal, m.getFullMethodName(), m.getType()).getCode())
          .as("%s on the internal listener", m.getFullMethodName()).isNotEqualTo(Status.Code.UNIMPLEMENTED);
    }
  }
}
