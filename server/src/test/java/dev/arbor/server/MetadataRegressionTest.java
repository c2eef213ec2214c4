package dev.arbor.server;

import static dev.arbor.server.MetadataNode.G;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.cluster.v1.WriteOutcome;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.metadata.etcd.EtcdMetadataStore;
import dev.arbor.metadata.etcd.EtcdProcess;
import dev.arbor.storage.Quarantine;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * etcd going back in time (restored from an older backup, or replaced by an empty one) raises an
 * alarm on the data node, which then deletes nothing on metadata changes until an operator
 * accepts the new history. Real etcd, restarted on copies of its own data directory.
 */
class MetadataRegressionTest {
  private static final String PREFIX = EtcdMetadataStore.DEFAULT_PREFIX;

  @TempDir Path dir;

  @Test
  void etcdRestoredFromAnOlderBackupRaisesTheAlarmAndDeletesNothingUntilAccepted() throws Exception {
    Random rnd = new Random();
    try (EtcdProcess etcd = EtcdProcess.start(dir.resolve("etcd"));
        MetadataNode node = new MetadataNode(dir.resolve("n1"), etcd, PREFIX)) {
      try (MetadataStore admin = MetadataNode.connect(etcd, PREFIX)) {
        MetadataNode.createGroup(admin);
      }
      node.start();
      List<String> ids = MetadataLossTest.ids(20, rnd);
      try (MetadataStore admin = MetadataNode.connect(etcd, PREFIX)) {
        assertThat(node.write(ids, admin.incarnation(G))).allMatch(o -> o == WriteOutcome.WRITE_OUTCOME_STORED);
      }
      etcd.stop();
      etcd.copyDataTo(dir.resolve("backup"));
      etcd.start();
      // History moves on after the backup; the node sees it.
      try (MetadataStore admin = MetadataNode.connect(etcd, PREFIX)) {
        for (int i = 0; i < 5; i++) {
          admin.createGroup(admin.group(G).orElseThrow().toBuilder()
              .setMetadata(dev.arbor.api.banyandb.common.v1.Metadata.newBuilder().setName("h" + i)).build());
        }
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> node.metadata().group("h4").isPresent());
      assertThat(regressed(node)).isEqualTo("0.0");

      etcd.stop();
      etcd.replaceData(dir.resolve("backup"));
      etcd.start();
      await().atMost(Duration.ofSeconds(20)).until(() -> regressed(node).equals("1.0"));
      assertThat(node.read(ids)).containsExactlyInAnyOrderElementsOf(ids);

      // While not trusted, even a real delete only quarantines.
      try (MetadataStore admin = MetadataNode.connect(etcd, PREFIX)) {
        admin.deleteGroup(G);
      }
      Quarantine quarantine = new Quarantine(node.dir());
      await().atMost(Duration.ofSeconds(10)).until(() -> quarantine.list().size() == 1);
      assertThat(Files.isDirectory(quarantine.list().get(0).dir().resolve("data"))).isTrue();

      // The alarm outlives a restart, and goes once accepted.
      node.stop();
      node.start();
      assertThat(regressed(node)).isEqualTo("1.0");
      node.stop();
      assertThat(MetadataLossTest.run("metadata", "accept-revision", "--data-dir", node.dir().toString()).exit())
          .isZero();
      node.start();
      assertThat(regressed(node)).isEqualTo("0.0");
      assertThat(quarantine.list()).hasSize(1);
    }
  }

  @Test
  void aNewEmptyEtcdRaisesTheAlarmAndTheDataIsQuarantinedNotDeleted() throws Exception {
    Random rnd = new Random();
    try (EtcdProcess etcd = EtcdProcess.start(dir.resolve("etcd"));
        MetadataNode node = new MetadataNode(dir.resolve("n1"), etcd, PREFIX)) {
      try (MetadataStore admin = MetadataNode.connect(etcd, PREFIX)) {
        MetadataNode.createGroup(admin);
        node.start();
        assertThat(node.write(MetadataLossTest.ids(10, rnd), admin.incarnation(G)))
            .allMatch(o -> o == WriteOutcome.WRITE_OUTCOME_STORED);
      }
      etcd.stop();
      etcd.replaceData(null);
      etcd.start();
      await().atMost(Duration.ofSeconds(20)).until(() -> regressed(node).equals("1.0"));
      Quarantine quarantine = new Quarantine(node.dir());
      await().atMost(Duration.ofSeconds(10)).until(() -> quarantine.list().size() == 1);
      assertThat(quarantine.list().get(0).group()).isEqualTo(G);
    }
  }

  /** The node's {@code arbor_metadata_revision_regressed} gauge, as text. */
  static String regressed(MetadataNode node) throws Exception {
    return metric(node, "arbor_metadata_revision_regressed");
  }

  /** A metric of the node, as text ("absent" when it has none). */
  static String metric(MetadataNode node, String name) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    return r.body().lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
        .map(l -> l.substring(l.lastIndexOf(' ') + 1)).findFirst().orElse("absent");
  }
}
