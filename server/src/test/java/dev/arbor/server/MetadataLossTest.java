package dev.arbor.server;

import static dev.arbor.server.MetadataNode.G;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.cluster.v1.WriteOutcome;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.metadata.etcd.EtcdMetadataStore;
import dev.arbor.metadata.etcd.EtcdProcess;
import dev.arbor.server.cli.ArborCli;
import dev.arbor.storage.Quarantine;
import dev.arbor.storage.QuarantineEntry;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.DeleteOption;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Metadata that loses a group nobody deleted never costs its data: a real data node (Lucene on
 * disk, gRPC on loopback) on a real etcd whose prefix is wiped keeps every property in quarantine,
 * and the operator's restore brings them back; an explicit delete still drops the data.
 */
class MetadataLossTest {
  /** The prefix the {@code arbor} command uses: this test's etcd is its own. */
  private static final String PREFIX = EtcdMetadataStore.DEFAULT_PREFIX;

  @TempDir Path dir;

  @Test
  void wipedEtcdPrefixQuarantinesTheGroupAndRestoreServesEveryPropertyAgain() throws Exception {
    long seed = System.nanoTime();
    System.out.println("MetadataLossTest seed " + seed);
    Random rnd = new Random(seed);
    try (EtcdProcess etcd = EtcdProcess.start(dir.resolve("etcd"));
        MetadataStore admin = MetadataNode.connect(etcd, PREFIX);
        MetadataNode node = new MetadataNode(dir.resolve("n1"), etcd, PREFIX)) {
      MetadataNode.createGroup(admin);
      node.start();
      List<String> ids = ids(20 + rnd.nextInt(30), rnd);
      assertThat(node.write(ids, admin.incarnation(G))).allMatch(o -> o == WriteOutcome.WRITE_OUTCOME_STORED);
      assertThat(node.read(ids)).containsExactlyInAnyOrderElementsOf(ids);

      wipe(etcd);
      Quarantine quarantine = new Quarantine(node.dir());
      await().atMost(Duration.ofSeconds(10)).until(() -> quarantine.list().size() == 1);
      QuarantineEntry entry = quarantine.list().get(0);
      assertThat(entry.group()).isEqualTo(G);
      assertThat(Files.exists(node.dir().resolve("data").resolve(G))).isFalse();
      assertThat(Files.isDirectory(entry.dir().resolve("data").resolve("shard-0"))
          || Files.isDirectory(entry.dir().resolve("data").resolve("shard-1"))).isTrue();
      // Not served: the node does not know the group any more.
      assertThatThrownBy(() -> node.read(ids)).hasMessageContaining("NOT_FOUND");

      // The operator re-creates the group (a new incarnation) and restores the data into it.
      MetadataNode.createGroup(admin);
      String[] restore = {"quarantine", "restore", "--data-dir", node.dir().toString(), "--group", G,
          "--metadata", "etcd://127.0.0.1:" + etcd.clientUri().getPort()};
      assertThat(run(restore).exit()).as("refused while the node runs").isNotZero();
      node.stop();
      Cli refused = run(restore);
      assertThat(refused.exit()).as("another incarnation needs --adopt").isNotZero();
      assertThat(refused.err()).contains("--adopt");
      Cli adopted = run(append(restore, "--adopt"));
      assertThat(adopted.exit()).as(adopted.err()).isZero();
      assertThat(quarantine.list()).isEmpty();

      node.start();
      assertThat(node.read(ids)).as("seed %d", seed).containsExactlyInAnyOrderElementsOf(ids);
      assertThat(node.write(ids(3, rnd), admin.incarnation(G))).allMatch(o -> o == WriteOutcome.WRITE_OUTCOME_STORED);
    }
  }

  @Test
  void anExplicitGroupDeleteStillDropsTheData() throws Exception {
    Random rnd = new Random();
    try (EtcdProcess etcd = EtcdProcess.start(dir.resolve("etcd"));
        MetadataStore admin = MetadataNode.connect(etcd, PREFIX);
        MetadataNode node = new MetadataNode(dir.resolve("n1"), etcd, PREFIX)) {
      MetadataNode.createGroup(admin);
      node.start();
      List<String> ids = ids(10, rnd);
      assertThat(node.write(ids, admin.incarnation(G))).allMatch(o -> o == WriteOutcome.WRITE_OUTCOME_STORED);

      admin.deleteGroup(G);
      Path groupDir = node.dir().resolve("data").resolve(G);
      await().atMost(Duration.ofSeconds(10)).until(() -> !Files.exists(groupDir));
      assertThat(new Quarantine(node.dir()).list()).isEmpty();
      // Re-created: nothing of the old group comes back.
      MetadataNode.createGroup(admin);
      await().atMost(Duration.ofSeconds(10)).until(() -> node.metadata().incarnation(G).equals(admin.incarnation(G)));
      assertThat(node.read(ids)).isEmpty();
    }
  }

  @Test
  void aCorruptOrMismatchedGroupValueRaisesTheAlarmAndTheGroupIsStillServed() throws Exception {
    Random rnd = new Random();
    try (EtcdProcess etcd = EtcdProcess.start(dir.resolve("etcd"));
        MetadataStore admin = MetadataNode.connect(etcd, PREFIX);
        MetadataNode node = new MetadataNode(dir.resolve("n1"), etcd, PREFIX);
        Client raw = Client.builder().endpoints(etcd.clientUri()).build()) {
      MetadataNode.createGroup(admin);
      node.start();
      List<String> ids = ids(10, rnd);
      assertThat(node.write(ids, admin.incarnation(G))).allMatch(o -> o == WriteOutcome.WRITE_OUTCOME_STORED);
      ByteSequence key = ByteSequence.from(PREFIX + "groups/" + G, StandardCharsets.UTF_8);
      byte[] good = raw.getKVClient().get(key).get().getKvs().get(0).getValue().getBytes();

      raw.getKVClient().put(key, ByteSequence.from(new byte[] {(byte) 0xff, 0x01, 0x02})).get();
      await().atMost(Duration.ofSeconds(10)).until(() -> node.metadata().unreadableValues().containsKey("groups/" + G));
      assertThat(MetadataRegressionTest.metric(node, "arbor_metadata_unreadable_values")).isEqualTo("1.0");
      assertThat(node.metadata().group(G)).isPresent();
      assertThat(node.read(ids)).containsExactlyInAnyOrderElementsOf(ids);

      // Valid protobuf, but another group's: as invalid as garbage.
      byte[] other = admin.group(G).orElseThrow().toBuilder()
          .setMetadata(dev.arbor.api.banyandb.common.v1.Metadata.newBuilder().setName("other")).build().toByteArray();
      raw.getKVClient().put(key, ByteSequence.from(other)).get();
      await().atMost(Duration.ofSeconds(10))
          .until(() -> node.metadata().unreadableValues().getOrDefault("groups/" + G, "").contains("not its key"));
      // A re-list (the watch broken by an etcd restart) does not take it for a deletion either.
      etcd.stop();
      etcd.start();
      await().atMost(Duration.ofSeconds(20)).until(() -> {
        try {
          return node.read(ids).size() == ids.size();
        } catch (RuntimeException e) {
          return false;
        }
      });
      assertThat(new Quarantine(node.dir()).list()).isEmpty();
      assertThat(Files.isDirectory(node.dir().resolve("data").resolve(G))).isTrue();

      raw.getKVClient().put(key, ByteSequence.from(good)).get();
      await().atMost(Duration.ofSeconds(10)).until(() -> node.metadata().unreadableValues().isEmpty());
      assertThat(node.read(ids)).containsExactlyInAnyOrderElementsOf(ids);
    }
  }

  /** Deletes every key under the prefix, as {@code etcdctl del --prefix} would. */
  static void wipe(EtcdProcess etcd) throws Exception {
    try (Client c = Client.builder().endpoints(etcd.clientUri()).build()) {
      ByteSequence p = ByteSequence.from(PREFIX, StandardCharsets.UTF_8);
      c.getKVClient().delete(p, DeleteOption.builder().isPrefix(true).build()).get();
    }
  }

  static List<String> ids(int n, Random rnd) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add("p-" + Long.toHexString(rnd.nextLong()));
    }
    return out;
  }

  record Cli(int exit, String out, String err) {}

  static Cli run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = ArborCli.newCommandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int exit = cl.execute(args);
    return new Cli(exit, out.toString(), err.toString());
  }

  private static String[] append(String[] a, String... more) {
    String[] out = java.util.Arrays.copyOf(a, a.length + more.length);
    System.arraycopy(more, 0, out, a.length, more.length);
    return out;
  }
}
