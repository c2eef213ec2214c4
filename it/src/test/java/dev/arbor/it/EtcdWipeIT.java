package dev.arbor.it;

import static dev.arbor.it.Props.byId;
import static dev.arbor.it.Props.property;
import static dev.arbor.it.Props.propertyGroup;
import static dev.arbor.it.Props.schema;
import static dev.arbor.it.Props.str;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.harness.ClusterOfProcesses;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.skywalking.banyandb.v1.client.BanyanDBClient;
import org.apache.skywalking.banyandb.v1.client.grpc.exception.BanyanDBException;
import org.apache.skywalking.banyandb.database.v1.BanyandbDatabase.TagType;
import org.junit.jupiter.api.Test;

/**
 * An operator wipes the etcd prefix under a running cluster (two data nodes, a liaison, every
 * property on both): no data node deletes anything; each quarantines the group, and after the
 * group is re-created and {@code arbor quarantine restore --adopt} run on each stopped node, every
 * acknowledged property is served again. Real processes, real etcd.
 */
class EtcdWipeIT {
  private static final Duration CLI_BOUND = Duration.ofSeconds(60);
  private static final String G = "kept";
  private static final String S = "doc";
  private static final int PROPS = 40;

  @Test
  void everyAcknowledgedPropertySurvivesAWipedEtcdPrefix() throws Exception {
    Path work = ArborProcess.newDataDir("etcd-wipe");
    ClusterOfProcesses cluster = ArborProcess.cluster(work)
        .dataNodes(List.of("d1", "d2"))
        .dataNamePrefix("wipe-data-")
        .liaison("wipe-liaison", "--write-consistency", "all")
        .start();
    String metadata = cluster.metadata();
    Map<String, ArborProcess> nodes = ArborProcess.of(cluster.dataNodes());
    ArborProcess liaison = ArborProcess.of(cluster.liaison());
    List<String> problems = new ArrayList<>();
    try {
      BanyanDBClient client = new BanyanDBClient(liaison.grpcTarget());
      client.connect();
      try {
        client.define(propertyGroup(G, 2, 1));
        client.define(schema(G, S, "title", TagType.TAG_TYPE_STRING));
        for (int i = 0; i < PROPS; i++) {
          client.apply(property(G, S, "p" + i, str("title", "t" + i)));
        }
      } finally {
        client.close();
      }

      new EtcdGateway(cluster.etcd().clientUri()).deletePrefix("/arbor/v1/");
      for (ArborProcess n : nodes.values()) {
        await("group " + G + " quarantined by " + n.name()).atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(200))
            .untilAsserted(() -> assertThat(n.output()).contains("QUARANTINED data of group " + G));
        assertThat(n.dataDir().resolve("data").resolve(G)).as("%s data/%s", n.name(), G).doesNotExist();
        try (Stream<Path> q = Files.list(n.dataDir().resolve("quarantine"))) {
          assertThat(q.toList()).as("%s quarantine/", n.name()).hasSize(1);
        }
      }

      // Metadata re-created by the operator: a new incarnation of the group, with the same shape.
      BanyanDBClient admin = new BanyanDBClient(liaison.grpcTarget());
      admin.connect();
      try {
        await("liaison sees the wiped metadata").atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(200)).until(() -> admin.findGroup(G) == null);
        admin.define(propertyGroup(G, 2, 1));
        admin.define(schema(G, S, "title", TagType.TAG_TYPE_STRING));
      } finally {
        admin.close();
      }
      for (String id : List.of("d1", "d2")) {
        ArborProcess old = nodes.get(id);
        assertThat(old.stop()).as("%s exit code\n%s", old.name(), old.logTail(30)).isZero();
        Cli plain = cli("wipe-restore-" + id, List.of("quarantine", "restore", "--data-dir", old.dataDir().toString(),
            "--group", G, "--metadata", metadata));
        assertThat(plain.exit()).as("without --adopt: %s", plain.out()).isNotZero();
        assertThat(plain.out()).contains("--adopt");
        Cli adopt = cli("wipe-adopt-" + id, List.of("quarantine", "restore", "--data-dir", old.dataDir().toString(),
            "--group", G, "--metadata", metadata, "--adopt"));
        assertThat(adopt.exit()).as("restore: %s", adopt.out()).isZero();
        nodes.put(id, old.restart());
      }
      assertEveryPropertyServed(liaison);
    } finally {
      problems.addAll(cluster.stop());
    }
    assertThat(problems).as("roles stop with exit 0 on SIGTERM").isEmpty();
    ArborProcess.deleteDataDir(work);
  }

  private static void assertEveryPropertyServed(ArborProcess server) throws Exception {
    BanyanDBClient client = new BanyanDBClient(server.grpcTarget());
    client.connect();
    try {
      for (int i = 0; i < PROPS; i++) {
        int n = i;
        await("p" + i + " served").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
            .ignoreExceptionsInstanceOf(BanyanDBException.class)
            .untilAsserted(() -> {
              var p = byId(client, G, S, "p" + n);
              assertThat(p).as("p%d on %s", n, server.name()).isNotNull();
              assertThat(p.getTagsList()).containsExactly(str("title", "t" + n));
            });
      }
    } finally {
      client.close();
    }
  }

  private static Cli cli(String name, List<String> args) {
    ArborProcess p = ArborProcess.launchCommand(name, args.toArray(String[]::new));
    try {
      assertThat(p.waitFor(CLI_BOUND)).as("arbor %s exits\n%s", args, p.logTail(20)).isTrue();
      return new Cli(p.process().exitValue(), p.output());
    } finally {
      p.close();
    }
  }

  private record Cli(int exit, String out) {}
}
