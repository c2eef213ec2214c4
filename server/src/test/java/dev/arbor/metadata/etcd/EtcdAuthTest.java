package dev.arbor.metadata.etcd;

import static dev.arbor.metadata.etcd.EtcdConnection.bytes;
import static dev.arbor.metadata.etcd.EtcdTestSupport.group;
import static dev.arbor.metadata.etcd.EtcdTestSupport.uniquePrefix;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.errors.UnavailableException;
import dev.arbor.metadata.RegisteredNode;
import dev.arbor.property.HybridClock;
import dev.arbor.transport.TestPki;
import io.etcd.jetcd.Auth;
import io.etcd.jetcd.auth.Permission;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real etcd over TLS with authentication enabled (a root user, and a user {@code arbor} whose
 * role may read and write the {@code /arbor} key prefix): Arbor works with that user's password,
 * and a wrong, missing or powerless identity fails at connect with a message saying which.
 */
class EtcdAuthTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(3);
  private static final Duration NOT_A_HANG = Duration.ofSeconds(30);
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String PASSWORD = "s3cret-" + System.nanoTime();

  @TempDir static Path dir;
  private static EtcdProcess etcd;
  private static Path caFile;

  @BeforeAll
  static void startEtcdWithAuth() throws Exception {
    TestPki ca = TestPki.newCa("etcd-auth-test-ca");
    caFile = ca.writeCa(dir.resolve("ca.crt"));
    TestPki.Leaf server = ca.issue("etcd", dir, "server");
    etcd = EtcdProcess.start(dir, new EtcdProcess.Tls(server.certFile(), server.keyFile(), null));
    try (EtcdConnection admin = EtcdConnection.connect(config(null, null))) {
      Auth auth = admin.client().getAuthClient();
      auth.userAdd(bytes("root"), bytes("root-" + PASSWORD)).get();
      auth.roleAdd(bytes("root")).get();
      auth.userGrantRole(bytes("root"), bytes("root")).get();
      auth.roleAdd(bytes("arbor")).get();
      // [/arbor, /arbos): every key that starts with "/arbor", the connect probe included.
      auth.roleGrantPermission(bytes("arbor"), bytes("/arbor"), bytes("/arbos"), Permission.Type.READWRITE).get();
      auth.userAdd(bytes("arbor"), bytes(PASSWORD)).get();
      auth.userGrantRole(bytes("arbor"), bytes("arbor")).get();
      auth.userAdd(bytes("nobody"), bytes(PASSWORD)).get();
      auth.authEnable().get();
    }
  }

  @AfterAll
  static void stopEtcd() {
    if (etcd != null) {
      etcd.stop();
    }
  }

  private static EtcdClientConfig config(String user, String password) {
    return EtcdClientConfig.plaintext(etcd.endpoints(), TIMEOUT).withTls(caFile, null, null)
        .withCredentials(user, password);
  }

  @Test
  void metadataAndRegistrationsWorkWithUserAndPassword() {
    String prefix = uniquePrefix("auth");
    RegisteredNode node = RegisteredNode.of("data-1", "127.0.0.1:18001", Set.of("data"));
    try (EtcdConnection conn = EtcdConnection.connect(config("arbor", PASSWORD));
        EtcdMetadataStore store = EtcdMetadataStore.open(conn, prefix, HybridClock.system());
        EtcdNodeRegistry registry = EtcdNodeRegistry.open(conn, prefix);
        EtcdConnection other = EtcdConnection.connect(config("arbor", PASSWORD));
        EtcdMetadataStore watcher = EtcdMetadataStore.open(other, prefix, HybridClock.system());
        EtcdNodeRegistry observer = EtcdNodeRegistry.open(other, prefix)) {
      Group created = store.createGroup(group("g1", 2));
      assertThat(store.group("g1")).contains(created);
      registry.register(node, Duration.ofSeconds(5));
      await().atMost(WAIT).until(() -> watcher.group("g1").equals(java.util.Optional.of(created)));
      await().atMost(WAIT).until(() -> observer.nodes().equals(List.of(node)));
    }
  }

  /**
   * etcd rejects a call made with a token it expired or revoked (and does not execute it); the
   * call after an auth change, or after a long idle spell, still succeeds: it is sent once more
   * with a fresh token.
   */
  @Test
  void callsCarryOnWhenEtcdChangesOrRevokesTheToken() throws Exception {
    String prefix = uniquePrefix("auth-rev");
    try (EtcdConnection conn = EtcdConnection.connect(config("arbor", PASSWORD));
        EtcdMetadataStore store = EtcdMetadataStore.open(conn, prefix, HybridClock.system());
        EtcdConnection root = EtcdConnection.connect(config("root", "root-" + PASSWORD))) {
      store.createGroup(group("before", 1));
      root.client().getAuthClient().roleAdd(bytes("role-" + System.nanoTime())).get();
      Group after = store.createGroup(group("after", 1));
      assertThat(store.group("after")).contains(after);
      // Setting the same password again revokes the user's tokens (as etcd does when a token
      // outlives --auth-token-ttl while idle).
      root.client().getAuthClient().userChangePassword(bytes("arbor"), bytes(PASSWORD)).get();
      store.deleteGroup("before");
      assertThat(store.group("before")).isEmpty();
    }
  }

  @Test
  void aWrongPasswordIsNamedAsSuch() {
    assertThatThrownBy(() -> assertTimeoutPreemptively(NOT_A_HANG,
            () -> EtcdConnection.connect(config("arbor", "wrong"))))
        .isInstanceOf(UnavailableException.class)
        .hasMessageStartingWith("cannot reach etcd at " + etcd.clientUri()
            + " within 3s (etcd refused the user name or password of user 'arbor':")
        .hasMessageNotContaining(PASSWORD);
  }

  @Test
  void withoutCredentialsEtcdAsksForThem() {
    assertThatThrownBy(() -> assertTimeoutPreemptively(NOT_A_HANG, () -> EtcdConnection.connect(config(null, null))))
        .isInstanceOf(UnavailableException.class)
        .hasMessageContaining("(etcd requires authentication: give --etcd-user and a password");
  }

  @Test
  void aUserWithoutPermissionOnArborsKeysIsToldSo() {
    assertThatThrownBy(() -> assertTimeoutPreemptively(NOT_A_HANG,
            () -> EtcdConnection.connect(config("nobody", PASSWORD))))
        .isInstanceOf(UnavailableException.class)
        .hasMessageContaining("(user 'nobody' may not read Arbor's keys (grant its role readwrite on the key prefix");
  }
}
