package dev.arbor.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.admin.v1.TreeAdminServiceGrpc;
import dev.arbor.api.banyandb.common.v1.ServiceGrpc;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceGrpc;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceGrpc;
import dev.arbor.api.banyandb.property.v1.PropertyServiceGrpc;
import dev.arbor.testing.RawCalls;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each role against each RPC of a standalone server: a call the role does not cover is
 * PERMISSION_DENIED, a call it covers gets past authorization (whatever the empty request then
 * earns, such as INVALID_ARGUMENT). Methods not in the table must need {@code admin}, so a method
 * added later is closed until someone grants it.
 */
class ApiRolesTest {
  /** What the documentation promises; independent of the server's own table. */
  private static final Map<String, Role> EXPECTED = Map.ofEntries(
      Map.entry("banyandb.property.v1.PropertyService/Query", Role.READ),
      Map.entry("banyandb.property.v1.PropertyService/Apply", Role.WRITE),
      Map.entry("banyandb.property.v1.PropertyService/Delete", Role.WRITE),
      Map.entry("banyandb.database.v1.GroupRegistryService/Get", Role.READ),
      Map.entry("banyandb.database.v1.GroupRegistryService/List", Role.READ),
      Map.entry("banyandb.database.v1.GroupRegistryService/Exist", Role.READ),
      Map.entry("banyandb.database.v1.GroupRegistryService/Create", Role.ADMIN),
      Map.entry("banyandb.database.v1.GroupRegistryService/Update", Role.ADMIN),
      Map.entry("banyandb.database.v1.GroupRegistryService/Delete", Role.ADMIN),
      Map.entry("banyandb.database.v1.PropertyRegistryService/Get", Role.READ),
      Map.entry("banyandb.database.v1.PropertyRegistryService/List", Role.READ),
      Map.entry("banyandb.database.v1.PropertyRegistryService/Exist", Role.READ),
      Map.entry("banyandb.database.v1.PropertyRegistryService/Create", Role.ADMIN),
      Map.entry("banyandb.database.v1.PropertyRegistryService/Update", Role.ADMIN),
      Map.entry("banyandb.database.v1.PropertyRegistryService/Delete", Role.ADMIN),
      Map.entry("banyandb.common.v1.Service/GetAPIVersion", Role.READ));

  private static final List<ServiceDescriptor> SERVICES = List.of(PropertyServiceGrpc.getServiceDescriptor(),
      GroupRegistryServiceGrpc.getServiceDescriptor(), PropertyRegistryServiceGrpc.getServiceDescriptor(),
      ServiceGrpc.getServiceDescriptor(), TreeAdminServiceGrpc.getServiceDescriptor());

  @TempDir static Path dir;
  private static SecureStandalone server;
  private static final Map<Role, ManagedChannel> AS = new EnumMap<>(Role.class);

  @BeforeAll
  static void start() throws IOException {
    Path users = SecureStandalone.writeUsers(dir.resolve("users.yaml"), """
        users:
          - {username: reader, password: r-pw, role: read}
          - {username: writer, password: w-pw, role: write}
          - {username: admin, password: a-pw, role: admin}
        """);
    server = SecureStandalone.start(dir.resolve("data"),
        new SecurityConfig(null, users, HttpAuth.PROTECTED, Duration.ofSeconds(10)));
    AS.put(Role.READ, server.channel(ClientSecurity.PLAINTEXT.withCredentials(new Credentials("reader", "r-pw"))));
    AS.put(Role.WRITE, server.channel(ClientSecurity.PLAINTEXT.withCredentials(new Credentials("writer", "w-pw"))));
    AS.put(Role.ADMIN, server.channel(ClientSecurity.PLAINTEXT.withCredentials(new Credentials("admin", "a-pw"))));
  }

  @AfterAll
  static void stop() throws InterruptedException {
    server.close();
  }

  static List<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    for (ServiceDescriptor s : SERVICES) {
      for (MethodDescriptor<?, ?> m : s.getMethods()) {
        Role needed = EXPECTED.getOrDefault(m.getFullMethodName(), Role.ADMIN);
        for (Role role : Role.values()) {
          out.add(Arguments.of(m.getFullMethodName(), m.getType(), role, needed));
        }
      }
    }
    return out;
  }

  @ParameterizedTest(name = "{2} calls {0} (needs {3})")
  @MethodSource("cases")
  void roleIsEnforcedPerRpc(String method, MethodDescriptor.MethodType type, Role role, Role needed)
      throws Exception {
    Status.Code code = RawCalls.callWithEmptyRequest(AS.get(role), method, type).getCode();
    if (role.includes(needed)) {
      assertThat(code).as("%s as %s", method, role).isNotIn(Status.Code.PERMISSION_DENIED,
          Status.Code.UNAUTHENTICATED);
    } else {
      assertThat(code).as("%s as %s", method, role).isEqualTo(Status.Code.PERMISSION_DENIED);
    }
  }
}
