package dev.arbor.metadata.etcd;

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
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real etcd serving clients over TLS and requiring client certificates: metadata and node
 * registrations work with the right CA and certificate, and every wrong combination fails with a
 * message saying what is wrong, within the connect timeout (never a hang).
 */
class EtcdTlsTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(3);
  /** Guards against a hang only: a refused handshake fails well within the 3 s timeout. */
  private static final Duration NOT_A_HANG = Duration.ofSeconds(30);
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir static Path dir;
  private static EtcdProcess etcd;
  private static Path caFile;
  private static TestPki.Leaf client;
  private static Path otherCaFile;
  private static TestPki.Leaf otherClient;

  @BeforeAll
  static void startEtcd() throws Exception {
    TestPki ca = TestPki.newCa("etcd-test-ca");
    caFile = ca.writeCa(dir.resolve("ca.crt"));
    TestPki.Leaf server = ca.issue("etcd", dir, "server");
    client = ca.issue("arbor", dir, "client");
    TestPki other = TestPki.newCa("other-ca");
    Path otherDir = Files.createDirectories(dir.resolve("other"));
    otherCaFile = other.writeCa(otherDir.resolve("ca.crt"));
    otherClient = other.issue("arbor", otherDir, "client");
    etcd = EtcdProcess.start(dir, new EtcdProcess.Tls(server.certFile(), server.keyFile(), caFile));
  }

  @AfterAll
  static void stopEtcd() {
    if (etcd != null) {
      etcd.stop();
    }
  }

  private static EtcdClientConfig tls(Path ca, TestPki.Leaf leaf) {
    return EtcdClientConfig.plaintext(etcd.endpoints(), TIMEOUT)
        .withTls(ca, leaf == null ? null : leaf.certFile(), leaf == null ? null : leaf.keyFile());
  }

  @Test
  void metadataAndRegistrationsWorkOverTlsWithAClientCertificate() {
    String prefix = uniquePrefix("tls");
    RegisteredNode node = RegisteredNode.of("data-1", "127.0.0.1:18001", Set.of("data"));
    try (EtcdConnection conn = EtcdConnection.connect(tls(caFile, client));
        EtcdMetadataStore store = EtcdMetadataStore.open(conn, prefix, HybridClock.system());
        EtcdNodeRegistry registry = EtcdNodeRegistry.open(conn, prefix);
        EtcdConnection other = EtcdConnection.connect(tls(caFile, client));
        EtcdMetadataStore watcher = EtcdMetadataStore.open(other, prefix, HybridClock.system());
        EtcdNodeRegistry observer = EtcdNodeRegistry.open(other, prefix)) {
      Group created = store.createGroup(group("g1", 2));
      assertThat(store.group("g1")).contains(created);
      registry.register(node, Duration.ofSeconds(5));
      // Seen through the other connection's watches: the streams work over TLS too.
      await().atMost(WAIT).until(() -> watcher.group("g1").equals(java.util.Optional.of(created)));
      await().atMost(WAIT).until(() -> observer.nodes().equals(List.of(node)));
    }
  }

  @Test
  void withoutAClientCertificateEtcdRefusesTheConnection() {
    assertThatThrownBy(() -> assertTimeoutPreemptively(NOT_A_HANG, () -> EtcdConnection.connect(tls(caFile, null))))
        .isInstanceOf(UnavailableException.class)
        .hasMessageStartingWith("cannot reach etcd at " + etcd.clientUri() + " within 3s (TLS handshake failed:")
        .hasMessageEndingWith("; etcd requires a client certificate (--client-cert-auth): give --etcd-cert-file and"
            + " --etcd-key-file)");
  }

  @Test
  void aServerCertificateFromAnotherCaIsNotTrusted() {
    assertThatThrownBy(() -> assertTimeoutPreemptively(NOT_A_HANG,
            () -> EtcdConnection.connect(tls(otherCaFile, client))))
        .isInstanceOf(UnavailableException.class)
        .hasMessageContaining("TLS handshake failed:")
        .hasMessageEndingWith("; etcd's certificate is not signed by the CA in --etcd-ca-file " + otherCaFile + ")");
  }

  @Test
  void withoutTheCaTheJdkTrustStoreDoesNotTrustEtcd() {
    assertThatThrownBy(() -> assertTimeoutPreemptively(NOT_A_HANG, () -> EtcdConnection.connect(tls(null, client))))
        .isInstanceOf(UnavailableException.class)
        .hasMessageContaining("TLS handshake failed:")
        .hasMessageEndingWith("; etcd's certificate is not signed by a CA the JDK trusts: give --etcd-ca-file)");
  }

  @Test
  void aClientCertificateFromAnotherCaIsRefused() {
    assertThatThrownBy(() -> assertTimeoutPreemptively(NOT_A_HANG,
            () -> EtcdConnection.connect(tls(caFile, otherClient))))
        .isInstanceOf(UnavailableException.class)
        .hasMessageContaining("TLS handshake failed:")
        .hasMessageEndingWith("; etcd refused the certificate in --etcd-cert-file " + otherClient.certFile()
            + ": is it signed by a CA in etcd's --trusted-ca-file?)");
  }

  @Test
  void aPlaintextClientIsToldToUseTls() {
    URI plain = URI.create("http://127.0.0.1:" + etcd.clientUri().getPort());
    assertThatThrownBy(() -> assertTimeoutPreemptively(NOT_A_HANG,
            () -> EtcdConnection.connect(EtcdClientConfig.plaintext(List.of(plain), TIMEOUT))))
        .isInstanceOf(UnavailableException.class)
        .hasMessageStartingWith("cannot reach etcd at " + plain + " within 3s (")
        .hasMessageEndingWith("; if etcd serves TLS, write the endpoints as etcds:// (with --etcd-ca-file))")
        .hasMessageNotContaining("\n");
  }

  @Test
  void unreadableOrMismatchedFilesAreNamed() {
    assertThatThrownBy(() -> EtcdConnection.connect(tls(dir.resolve("missing.crt"), client)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cannot read --etcd-ca-file " + dir.resolve("missing.crt") + ": no such file");
    assertThatThrownBy(() -> EtcdConnection.connect(tls(client.keyFile(), client)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("--etcd-ca-file " + client.keyFile() + " holds no PEM certificate");
    assertThatThrownBy(() -> EtcdConnection.connect(EtcdClientConfig.plaintext(etcd.endpoints(), TIMEOUT)
            .withTls(caFile, client.certFile(), client.certFile())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("--etcd-key-file " + client.certFile() + " holds no PEM PKCS#8 private key");
  }
}
