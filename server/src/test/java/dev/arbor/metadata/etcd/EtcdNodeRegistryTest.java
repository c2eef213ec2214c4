package dev.arbor.metadata.etcd;

import dev.arbor.metadata.RegisteredNode;
import dev.arbor.metadata.NodeEvent;
import static dev.arbor.metadata.etcd.EtcdTestSupport.uniquePrefix;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Node registrations under leases, against a real etcd. */
class EtcdNodeRegistryTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(3);
  private static final Duration TTL = Duration.ofSeconds(2);

  @TempDir static Path dir;
  private static EtcdProcess etcd;

  @BeforeAll
  static void startEtcd() throws Exception {
    etcd = EtcdProcess.start(dir);
  }

  @AfterAll
  static void stopEtcd() {
    if (etcd != null) {
      etcd.stop();
    }
  }

  private static EtcdNodeRegistry connect(String prefix) {
    return EtcdNodeRegistry.connect(etcd.endpoints(), prefix, TIMEOUT);
  }

  @Test
  void registeredNodesAreSeenAndLeaveOnCloseOrAfterTheTtl() {
    String prefix = uniquePrefix("nodes");
    RegisteredNode n1 =
        new RegisteredNode("data-1", "127.0.0.1:18001", Set.of("data"), Map.of("zone", "a"));
    RegisteredNode n2 = RegisteredNode.of("data-2", "127.0.0.1:18002", Set.of("data", "liaison"));
    try (EtcdNodeRegistry observer = connect(prefix)) {
      List<NodeEvent> events = new CopyOnWriteArrayList<>();
      observer.addListener(events::add);
      EtcdNodeRegistry r1 = connect(prefix);
      EtcdNodeRegistry r2 = connect(prefix);
      r1.register(n1, TTL);
      r2.register(n2, TTL);
      assertThat(r1.nodes()).contains(n1); // its own registration at once
      await().atMost(Duration.ofSeconds(1)).until(() -> observer.nodes().equals(List.of(n1, n2)));
      assertThat(observer.node("data-1")).contains(n1);

      // Kept alive well past the TTL.
      await()
          .pollDelay(TTL.multipliedBy(2))
          .atMost(TTL.multipliedBy(3))
          .until(() -> observer.nodes().size() == 2);

      // A clean close revokes the lease: gone at once.
      r1.close();
      await().atMost(Duration.ofSeconds(1)).until(() -> observer.nodes().equals(List.of(n2)));

      // A crash leaves the registration until the lease expires.
      long t0 = System.nanoTime();
      r2.abandonWithoutRevoking();
      assertThat(observer.nodes()).containsExactly(n2);
      await().atMost(TTL.plusSeconds(3)).until(() -> observer.nodes().isEmpty());
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThan(Duration.ofMillis(500));

      await()
          .atMost(Duration.ofSeconds(1))
          .untilAsserted(
              () ->
                  assertThat(events)
                      .extracting(e -> e.type() + " " + e.node().id())
                      .containsExactly("JOINED data-1", "JOINED data-2", "LEFT data-1", "LEFT data-2"));
    }
  }

  @Test
  void aNodeWhoseLeaseIsLostRegistersAgain() throws Exception {
    String prefix = uniquePrefix("relost");
    RegisteredNode n = RegisteredNode.of("data-9", "127.0.0.1:18009", Set.of("data"));
    try (EtcdNodeRegistry observer = connect(prefix);
        EtcdNodeRegistry r = connect(prefix)) {
      r.register(n, TTL);
      await().atMost(Duration.ofSeconds(1)).until(() -> observer.node("data-9").isPresent());
      long lease = r.leaseId();
      // Someone (an operator, or etcd after a long outage) drops the lease.
      observer.connection().client().getLeaseClient().revoke(lease).get();
      await().atMost(Duration.ofSeconds(1)).until(() -> observer.node("data-9").isEmpty());
      await()
          .atMost(TTL.plusSeconds(3))
          .until(() -> observer.node("data-9").isPresent() && r.leaseId() != lease && r.leaseId() > 0);
    }
  }
}
