package dev.arbor.metadata.etcd;

import static dev.arbor.metadata.etcd.EtcdTestSupport.uniquePrefix;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.arbor.errors.FailedPreconditionException;
import dev.arbor.metadata.NodeEvent;
import dev.arbor.metadata.RegisteredNode;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.LeaseOption;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Node registrations under leases, against a real etcd. Waits are generous (a loaded CI machine
 * may take seconds to deliver a watch event); what must happen quickly is checked on etcd's own
 * state right after the call, not by a short wait.
 */
class EtcdNodeRegistryTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(3);
  private static final Duration TTL = Duration.ofSeconds(2);
  private static final Duration WAIT = Duration.ofSeconds(30);

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

  /** Seconds the lease has left (-1 once it is gone), as etcd reports it. */
  private static long ttlLeft(EtcdNodeRegistry via, long lease) throws Exception {
    return via.connection().client().getLeaseClient().timeToLive(lease, LeaseOption.DEFAULT).get().getTTL();
  }

  /** The stored registration of {@code id} under {@code prefix}, or null. */
  private static KeyValue stored(EtcdNodeRegistry via, String prefix, String id) throws Exception {
    List<KeyValue> kvs = via.connection().client().getKVClient()
        .get(ByteSequence.from(prefix + "nodes/" + id, StandardCharsets.UTF_8)).get().getKvs();
    return kvs.isEmpty() ? null : kvs.get(0);
  }

  @Test
  void registeredNodesAreSeenAndLeaveOnCloseOrAfterTheTtl() throws Exception {
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
      await().atMost(WAIT).until(() -> observer.nodes().equals(List.of(n1, n2)));
      assertThat(observer.node("data-1")).contains(n1);

      // Kept alive well past the TTL: present all along.
      await()
          .during(TTL.multipliedBy(2))
          .atMost(TTL.multipliedBy(2).plus(WAIT))
          .until(() -> observer.nodes().size() == 2);

      // A clean close revokes the lease: etcd has dropped it when close returns.
      long lease1 = r1.leaseId();
      r1.close();
      assertThat(ttlLeft(observer, lease1)).as("lease of a closed registry").isEqualTo(-1);
      await().atMost(WAIT).until(() -> observer.nodes().equals(List.of(n2)));

      // A crash leaves the registration until the lease expires.
      long lease2 = r2.leaseId();
      long t0 = System.nanoTime();
      r2.abandonWithoutRevoking();
      assertThat(observer.nodes()).containsExactly(n2);
      assertThat(ttlLeft(observer, lease2)).as("lease of an abandoned registry").isPositive();
      await().atMost(WAIT).until(() -> observer.nodes().isEmpty());
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThan(Duration.ofMillis(500));

      await()
          .atMost(WAIT)
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
      List<String> events = new CopyOnWriteArrayList<>();
      observer.addListener(e -> events.add(e.type() + " " + e.node().id()));
      r.register(n, TTL);
      await().atMost(WAIT).until(() -> observer.node("data-9").isPresent());
      long lease = r.leaseId();
      // Someone (an operator, or etcd after a long outage) drops the lease.
      observer.connection().client().getLeaseClient().revoke(lease).get();
      // Gone and back (too quickly to poll for the gap).
      await().atMost(WAIT).until(() -> events.equals(List.of("JOINED data-9", "LEFT data-9", "JOINED data-9")));
      await()
          .atMost(WAIT)
          .until(() -> observer.node("data-9").isPresent() && r.leaseId() != lease && r.leaseId() > 0);
      assertThat(stored(observer, prefix, "data-9").getLease()).isEqualTo(r.leaseId());
    }
  }

  @Test
  void aSecondNodeWithTheSameIdFailsToRegisterNamingTheHolder() throws Exception {
    String prefix = uniquePrefix("dup");
    RegisteredNode first = RegisteredNode.of("data-5", "127.0.0.1:18005", Set.of("data"));
    RegisteredNode second = RegisteredNode.of("data-5", "127.0.0.1:28005", Set.of("data"));
    try (EtcdNodeRegistry observer = connect(prefix);
        EtcdNodeRegistry r1 = connect(prefix);
        EtcdNodeRegistry r2 = connect(prefix)) {
      r1.register(first, TTL);
      long lease = r1.leaseId();

      // The holder renews its lease, so the second one gives up after waiting it out.
      assertThatThrownBy(() -> r2.register(second, TTL))
          .isInstanceOf(FailedPreconditionException.class)
          .hasMessageContaining("node id data-5")
          .hasMessageContaining("127.0.0.1:18005")
          .hasMessageNotContaining("\n");

      assertThat(r2.leaseId()).isZero();
      KeyValue kv = stored(observer, prefix, "data-5");
      assertThat(kv.getLease()).isEqualTo(lease);
      assertThat(kv.getValue().toString(StandardCharsets.UTF_8)).contains("127.0.0.1:18005");
      await().atMost(WAIT).until(() -> observer.node("data-5").equals(Optional.of(first)));
    }
  }

  @Test
  void aRestartRightAfterACrashWaitsOutTheEarlierRegistrationOfItsId() throws Exception {
    String prefix = uniquePrefix("restart");
    RegisteredNode before = RegisteredNode.of("data-6", "127.0.0.1:18006", Set.of("data"));
    RegisteredNode after = RegisteredNode.of("data-6", "127.0.0.1:28006", Set.of("data"));
    try (EtcdNodeRegistry observer = connect(prefix)) {
      EtcdNodeRegistry crashed = connect(prefix);
      crashed.register(before, TTL);
      long oldLease = crashed.leaseId();
      crashed.abandonWithoutRevoking();
      try (EtcdNodeRegistry restarted = connect(prefix)) {
        restarted.register(after, TTL);
        assertThat(ttlLeft(observer, oldLease)).as("the crashed run's lease").isEqualTo(-1);
        assertThat(stored(observer, prefix, "data-6").getLease()).isEqualTo(restarted.leaseId());
        await().atMost(WAIT).until(() -> observer.node("data-6").equals(Optional.of(after)));
      }
    }
  }

  @Test
  void aRestartOnTheSameAddressReplacesItsEarlierRegistrationAtOnce() throws Exception {
    String prefix = uniquePrefix("same-address");
    RegisteredNode node = RegisteredNode.of("data-9", "127.0.0.1:18009", Set.of("data"));
    try (EtcdNodeRegistry observer = connect(prefix)) {
      EtcdNodeRegistry crashed = connect(prefix);
      crashed.register(node, Duration.ofMinutes(10));
      long oldLease = crashed.leaseId();
      crashed.abandonWithoutRevoking();
      try (EtcdNodeRegistry restarted = connect(prefix)) {
        long t0 = System.nanoTime();
        restarted.register(node, Duration.ofMinutes(10));
        // Not the ten-minute lease: the address it serves on proves the holder is its own dead run.
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMinutes(1));
        assertThat(stored(observer, prefix, "data-9").getLease()).isEqualTo(restarted.leaseId()).isNotEqualTo(oldLease);
      }
    }
  }

  @Test
  void aRegistrationDeletedWhileItsLeaseLivesIsCreatedAgain() throws Exception {
    String prefix = uniquePrefix("deleted");
    RegisteredNode n = RegisteredNode.of("data-7", "127.0.0.1:18007", Set.of("data"));
    try (EtcdNodeRegistry observer = connect(prefix);
        EtcdNodeRegistry r = connect(prefix)) {
      List<String> events = new CopyOnWriteArrayList<>();
      observer.addListener(e -> events.add(e.type() + " " + e.node().id()));
      r.register(n, TTL);
      long lease = r.leaseId();
      await().atMost(WAIT).until(() -> observer.node("data-7").isPresent());

      observer.connection().client().getKVClient()
          .delete(ByteSequence.from(prefix + "nodes/data-7", StandardCharsets.UTF_8)).get();

      await().atMost(WAIT).until(() -> events.equals(List.of("JOINED data-7", "LEFT data-7", "JOINED data-7")));
      KeyValue kv = stored(observer, prefix, "data-7");
      assertThat(kv).as("registration in etcd").isNotNull();
      assertThat(kv.getLease()).as("re-created on the same, still living lease").isEqualTo(lease);
      assertThat(r.leaseId()).isEqualTo(lease);
      assertThat(observer.node("data-7")).contains(n);
    }
  }

  @Test
  void aNodeFrozenPastItsLeaseRegistersAgainWithANewLeaseWhenItResumes() throws Exception {
    String prefix = uniquePrefix("frozen");
    String endpoints = etcd.endpoints().stream().map(URI::toString).collect(Collectors.joining(","));
    Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
    Process child = new ProcessBuilder(
            javaBin.toString(), "-cp", System.getProperty("java.class.path"), RegistryChild.class.getName(),
            endpoints, prefix, "data-8", "127.0.0.1:18008", Long.toString(TTL.toSeconds()))
        .redirectErrorStream(true)
        .start();
    List<String> output = new CopyOnWriteArrayList<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          output.add(line);
        }
      } catch (java.io.IOException closed) {
        // the child is gone
      }
    }, "registry-child-output");
    reader.setDaemon(true);
    reader.start();
    try (EtcdNodeRegistry observer = connect(prefix)) {
      await("child registered\n" + output).atMost(WAIT)
          .until(() -> output.stream().anyMatch(l -> l.startsWith(RegistryChild.LEASE_LINE)));
      long lease = output.stream().filter(l -> l.startsWith(RegistryChild.LEASE_LINE)).findFirst()
          .map(l -> Long.parseLong(l.substring(RegistryChild.LEASE_LINE.length()).trim())).orElseThrow();
      await().atMost(WAIT).until(() -> observer.node("data-8").isPresent());

      signal("STOP", child);
      try {
        await("the frozen node's registration expires").atMost(WAIT).until(() -> observer.node("data-8").isEmpty());
        assertThat(ttlLeft(observer, lease)).as("the frozen node's lease").isEqualTo(-1);
      } finally {
        signal("CONT", child);
      }

      await("the resumed node registers again\n" + output).atMost(WAIT).until(() -> {
        KeyValue kv = stored(observer, prefix, "data-8");
        return kv != null && kv.getLease() != lease && ttlLeft(observer, kv.getLease()) > 0;
      });
      await().atMost(WAIT).until(() -> observer.node("data-8").isPresent());
    } finally {
      child.getOutputStream().close();
      if (!child.waitFor(30, TimeUnit.SECONDS)) {
        child.destroyForcibly();
      }
    }
  }

  private static void signal(String sig, Process p) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + sig, Long.toString(p.pid())).inheritIO().start();
    assertThat(kill.waitFor()).as("kill -%s %d", sig, p.pid()).isZero();
  }
}
