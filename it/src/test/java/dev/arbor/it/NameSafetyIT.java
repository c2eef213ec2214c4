package dev.arbor.it;

import static dev.arbor.it.Props.byId;
import static dev.arbor.it.Props.property;
import static dev.arbor.it.Props.propertyGroup;
import static dev.arbor.it.Props.schema;
import static dev.arbor.it.Props.str;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.harness.EtcdServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.skywalking.banyandb.common.v1.BanyandbCommon;
import org.apache.skywalking.banyandb.database.v1.BanyandbDatabase.TagType;
import org.apache.skywalking.banyandb.v1.client.BanyanDBClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A group named {@code ..} once deleted a node's {@code wal/}, {@code meta/} and {@code data/}
 * through the public API, and on a cluster every data node did the same when it heard of the
 * deletion. Driven as a user would: the CLI against a real standalone process, and a real etcd
 * into which the group is written directly (as a metadata value from an older or foreign writer
 * would be), then deleted. Afterwards, and after restarts, every acknowledged property is there.
 */
@Timeout(240)
class NameSafetyIT {
  private static final Duration CLI_BOUND = Duration.ofSeconds(30);
  private static final String G = "ui";
  private static final String S = "template";
  private static final int PROPS = 20;

  @Test
  void standaloneRefusesDotDotThroughTheCliAndLosesNothing() throws Exception {
    Path dataDir = ArborProcess.newDataDir("names-standalone");
    ArborProcess server = ArborProcess.start("names-standalone", dataDir);
    try {
      writeProps(server);

      for (List<String> cmd : List.of(
          List.of("group", "create", "--name", "..", "--shards", "1"),
          List.of("group", "delete", "--name", ".."),
          List.of("group", "delete", "--name", "."),
          List.of("group", "delete", "--name", "../data"))) {
        List<String> args = new ArrayList<>(cmd);
        args.addAll(List.of("--target", server.grpcTarget()));
        Cli c = cli("names-cli", args);
        assertThat(c.exit()).as("arbor %s\n%s", args, c.out()).isNotZero();
        List<String> lines = c.out().lines().filter(l -> !l.isBlank()).toList();
        assertThat(lines).as("one readable line, no stack trace: %s", c.out()).hasSize(1);
        assertThat(lines.get(0)).contains("INVALID_ARGUMENT").contains("group");
      }
      assertThat(dataDir.resolve("wal")).isDirectory();
      assertThat(dataDir.resolve("meta").resolve("metadata.bin")).isRegularFile();
      assertEveryPropertyServed(server);

      assertThat(server.stop()).as("exit code after SIGTERM\n%s", server.logTail(40)).isZero();
      server = ArborProcess.start("names-standalone-restarted", dataDir);
      assertEveryPropertyServed(server);
      assertThat(server.stop()).isZero();
      ArborProcess.deleteDataDir(dataDir);
    } finally {
      server.close();
    }
  }

  @Test
  void dataNodesKeepTheirDataWhenAGroupNamedDotDotIsDeletedInEtcd() throws Exception {
    Path work = ArborProcess.newDataDir("names-cluster");
    EtcdServer etcd = ArborProcess.startEtcd(Files.createDirectories(work.resolve("etcd")));
    String metadata = "etcd://127.0.0.1:" + etcd.clientUri().getPort();
    Map<String, ArborProcess> nodes = new LinkedHashMap<>();
    ArborProcess liaison = null;
    List<String> problems = new ArrayList<>();
    try {
      nodes.putAll(ArborProcess.startDataNodes("names-data-", List.of("d1", "d2"), work, metadata));
      liaison = ArborProcess.startLiaison("names-liaison", metadata, "--write-consistency", "all");
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

      // Bypass every API check: the group arrives as an etcd value, then its deletion as an event.
      EtcdGateway gw = new EtcdGateway(etcd.clientUri());
      String key = "/arbor/v1/groups/..";
      byte[] group = propertyGroup("..", 1).toBuilder()
          .setMetadata(BanyandbCommon.Metadata.newBuilder().setName("..").setCreateRevision(1).setModRevision(1))
          .build().toByteArray();
      gw.put(key, group);
      assertThat(gw.get(key)).as("the injected group is in etcd").isNotNull();
      gw.delete(key);
      // A valid group written after both: once every node knows it, each has handled the two
      // events before it (a watch delivers in order).
      gw.put("/arbor/v1/groups/sentinel", propertyGroup("sentinel", 1).toBuilder()
          .setMetadata(BanyandbCommon.Metadata.newBuilder().setName("sentinel").setCreateRevision(2).setModRevision(2))
          .build().toByteArray());
      for (ArborProcess n : nodes.values()) {
        await("sentinel group known to " + n.name()).atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(200)).until(() -> knowsGroup(n, "sentinel"));
        assertThat(n.dataDir().resolve("wal")).as("%s wal/", n.name()).isDirectory();
        assertThat(n.dataDir().resolve("data").resolve(G)).as("%s data/%s", n.name(), G).isDirectory();
        // The value never became a group: its name fails the rules every etcd value is held to.
        assertThat(n.output()).contains("METADATA VALUE UNREADABLE").contains("groups/..");
      }
      // Restart every data node: what was acknowledged (on both copies) is still served.
      for (String id : List.of("d1", "d2")) {
        ArborProcess old = nodes.get(id);
        assertThat(old.stop()).as("%s exit code\n%s", old.name(), old.logTail(30)).isZero();
        nodes.put(id, old.restart());
      }
      assertEveryPropertyServed(liaison);
    } finally {
      List<ArborProcess> all = new ArrayList<>();
      if (liaison != null) {
        all.add(liaison);
      }
      all.addAll(nodes.values());
      problems.addAll(ArborProcess.stopAll(all));
      etcd.close();
    }
    assertThat(problems).as("roles stop with exit 0 on SIGTERM").isEmpty();
    ArborProcess.deleteDataDir(work);
  }

  /** Whether a data node knows {@code group}: its tree admin answers anything but NOT_FOUND. */
  private static boolean knowsGroup(ArborProcess node, String group) {
    io.grpc.ManagedChannel ch = dev.arbor.transport.ChannelFactory.plaintext()
        .open(node.grpcTarget(), dev.arbor.transport.MessageLimits.MAX_MESSAGE_BYTES);
    try {
      dev.arbor.api.admin.v1.TreeAdminServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, java.util.concurrent.TimeUnit.SECONDS)
          .buildTrees(dev.arbor.api.admin.v1.BuildTreesRequest.newBuilder().setGroup(group).setShard(0).build());
      return true;
    } catch (io.grpc.StatusRuntimeException e) {
      return e.getStatus().getCode() != io.grpc.Status.Code.NOT_FOUND
          && e.getStatus().getCode() != io.grpc.Status.Code.UNAVAILABLE;
    } finally {
      ch.shutdownNow();
    }
  }

  private static void writeProps(ArborProcess server) throws Exception {
    BanyanDBClient client = new BanyanDBClient(server.grpcTarget());
    client.connect();
    try {
      client.define(propertyGroup(G, 2));
      client.define(schema(G, S, "title", TagType.TAG_TYPE_STRING));
      for (int i = 0; i < PROPS; i++) {
        assertThat(client.apply(property(G, S, "p" + i, str("title", "t" + i))).getCreated()).isTrue();
      }
    } finally {
      client.close();
    }
  }

  private static void assertEveryPropertyServed(ArborProcess server) throws Exception {
    BanyanDBClient client = new BanyanDBClient(server.grpcTarget());
    client.connect();
    try {
      for (int i = 0; i < PROPS; i++) {
        assertThat(byId(client, G, S, "p" + i).getTagsList())
            .as("p%d on %s", i, server.name()).containsExactly(str("title", "t" + i));
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
