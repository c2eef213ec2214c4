package dev.arbor.metadata.etcd;

import static dev.arbor.metadata.etcd.EtcdTestSupport.uniquePrefix;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.metadata.RegisteredNode;
import dev.arbor.transport.TestPki;
import io.etcd.jetcd.options.GetOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The etcd client's certificate files are re-read when they change, without rebuilding the
 * client: a real etcd over TLS with client-certificate authentication moves to a new client CA
 * (restarted with only the new CA trusted, as an operator rotating it would); the Arbor client,
 * whose files were replaced by a certificate of the new CA while it ran, reconnects with that
 * certificate — the old one would be refused for ever — and its node registration survives on the
 * same lease.
 */
class EtcdTlsReloadTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(3);
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path dir;
  private EtcdProcess etcd;

  @AfterEach
  void stopEtcd() {
    if (etcd != null) {
      etcd.stop();
    }
  }

  @Test
  void aReplacedClientCertificateIsPresentedOnTheNextConnectionAndTheRegistrationSurvives() throws Exception {
    TestPki serverCa = TestPki.newCa("etcd-server-ca");
    Path serverCaFile = serverCa.writeCa(dir.resolve("server-ca.crt"));
    TestPki.Leaf server = serverCa.issue("etcd", dir, "server");
    TestPki oldClientCa = TestPki.newCa("old-client-ca");
    TestPki newClientCa = TestPki.newCa("new-client-ca");
    Path trustedByEtcd = oldClientCa.writeCa(dir.resolve("etcd-trusted-clients.crt"));
    TestPki.Leaf oldCert = oldClientCa.issue("arbor", Files.createDirectories(dir.resolve("old")), "client");
    TestPki.Leaf newCert = newClientCa.issue("arbor", Files.createDirectories(dir.resolve("new")), "client");
    Path certFile = dir.resolve("arbor-etcd.crt");
    Path keyFile = dir.resolve("arbor-etcd.key");
    install(oldCert, certFile, keyFile);
    etcd = EtcdProcess.start(dir, new EtcdProcess.Tls(server.certFile(), server.keyFile(), trustedByEtcd));

    String prefix = uniquePrefix("tls-reload");
    RegisteredNode node = RegisteredNode.of("data-1", "127.0.0.1:18001", Set.of("data"));
    EtcdClientConfig config = EtcdClientConfig.plaintext(etcd.endpoints(), TIMEOUT)
        .withTls(serverCaFile, certFile, keyFile).withReloadInterval(Duration.ofMillis(200));
    try (EtcdConnection conn = EtcdConnection.connect(config);
        EtcdNodeRegistry registry = EtcdNodeRegistry.open(conn, prefix)) {
      registry.register(node, Duration.ofSeconds(30));
      long lease = registry.leaseId();
      assertThat(conn.tls().clientCertificate()).isEqualTo(oldCert.cert());

      install(newCert, certFile, keyFile);
      await().atMost(WAIT).until(() -> newCert.cert().equals(conn.tls().clientCertificate()));
      // etcd now trusts only the new client CA; the client's connection breaks and is made again.
      etcd.stop();
      newClientCa.writeCa(trustedByEtcd);
      etcd.start();

      await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> conn.call(
          conn.client().getKVClient().get(EtcdConnection.bytes("/probe"), GetOption.builder().withCountOnly(true)
              .build()), "probe") != null);
      // The same client, so the same lease kept alive: the registration was never dropped.
      await().atMost(WAIT).untilAsserted(() -> assertThat(registry.readinessProblems()).isEmpty());
      assertThat(registry.leaseId()).isEqualTo(lease);
      try (EtcdConnection other = EtcdConnection.connect(config);
          EtcdNodeRegistry observer = EtcdNodeRegistry.open(other, prefix)) {
        await().atMost(WAIT).until(() -> observer.nodes().equals(List.of(node)));
      }
    }
  }

  /** Replaces the client's files as an operator should: each written aside, then moved in place. */
  private static void install(TestPki.Leaf leaf, Path certFile, Path keyFile) throws Exception {
    Path certTmp = certFile.resolveSibling(certFile.getFileName() + ".tmp");
    Path keyTmp = keyFile.resolveSibling(keyFile.getFileName() + ".tmp");
    Files.copy(leaf.certFile(), certTmp, StandardCopyOption.REPLACE_EXISTING);
    Files.copy(leaf.keyFile(), keyTmp, StandardCopyOption.REPLACE_EXISTING);
    Files.move(keyTmp, keyFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    Files.move(certTmp, certFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
