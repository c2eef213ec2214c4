package dev.arbor.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.cluster.v1.WriteRequest;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.EmbeddedNodeRegistry;
import dev.arbor.property.EntityKey;
import dev.arbor.property.HybridClock;
import dev.arbor.property.PropertyRecord;
import dev.arbor.server.DataNodeServer;
import dev.arbor.server.RepairConfig;
import dev.arbor.server.ServerConfig;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.MessageLimits;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code arbor repair run} in-process against two real data nodes (own Lucene shards, gRPC on
 * loopback), asserting what a user sees: progress, the summary, exit codes, one-line errors.
 */
class RepairRunCommandTest {
  @TempDir Path dir;
  private EmbeddedMetadataStore metadata;
  private DataNodeServer n1;
  private DataNodeServer n2;

  @BeforeEach
  void start() throws Exception {
    metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system());
    EmbeddedNodeRegistry registry = new EmbeddedNodeRegistry();
    RepairConfig repair = new RepairConfig("off", Duration.ofMinutes(1), Duration.ofMinutes(1), Duration.ofHours(1),
        Duration.ofDays(1));
    n1 = DataNodeServer.start("n1", ServerConfig.defaults(dir.resolve("n1")).withHost("127.0.0.1").withPorts(0, 0)
        .withRepair(repair), metadata, registry, "127.0.0.1", Duration.ofMinutes(1));
    n2 = DataNodeServer.start("n2", ServerConfig.defaults(dir.resolve("n2")).withHost("127.0.0.1").withPorts(0, 0)
        .withRepair(repair), metadata, registry, "127.0.0.1", Duration.ofMinutes(1));
    for (String g : new String[] {"two", "one"}) {
      metadata.createGroup(Group.newBuilder().setMetadata(Metadata.newBuilder().setName(g))
          .setCatalog(Catalog.CATALOG_PROPERTY)
          .setResourceOpts(ResourceOpts.newBuilder().setShardNum(1).setReplicas(g.equals("two") ? 1 : 0)).build());
    }
  }

  @AfterEach
  void stop() {
    n1.close();
    n2.close();
    metadata.close();
  }

  @Test
  void repairsAndPrintsHopsAndASummary() {
    WriteRequest.Builder w = WriteRequest.newBuilder();
    for (int i = 0; i < 25; i++) {
      byte[] src = Property.newBuilder().setMetadata(Metadata.newBuilder().setGroup("two").setName("t"))
          .setId("p" + i).build().toByteArray();
      w.addProperties(StoredProperties.toProto("two", 0,
          PropertyRecord.live(new EntityKey("two", "t", "p" + i), 100 + i, 100 + i, src)));
    }
    ManagedChannel ch = ChannelFactory.plaintext()
        .open("127.0.0.1:" + n1.internalPort(), MessageLimits.MAX_MESSAGE_BYTES);
    try {
      assertThat(DataNodeServiceGrpc.newBlockingStub(ch).write(w.build()).getStored()).isEqualTo(25);
    } finally {
      ch.shutdownNow();
    }
    CliRun r = run("--target", "127.0.0.1:" + n2.grpcPort(), "--group", "two");
    assertThat(r.exit()).as(r.out() + r.err()).isZero();
    assertThat(r.out()).contains("round n2-").contains(" of two/0 over ");
    assertThat(r.out()).containsPattern("hop n[12] <-> n[12]: 1 slot\\(s\\) differ|hop n[12] <-> n[12]: \\d+ slot\\(s\\) differ");
    assertThat(r.out()).contains("COMPLETED after 1 of 1 hop(s)");
    assertThat(r.out().lines().reduce((a, b) -> b).orElseThrow())
        .startsWith("repair of two: 1 round(s) completed, 1 hop(s), ")
        .contains("25 repaired");

    CliRun again = run("--target", "127.0.0.1:" + n1.grpcPort(), "--group", "two", "--all");
    assertThat(again.exit()).isZero();
    assertThat(again.out()).contains(": in sync,").contains(" 0 repaired (0 pushed, 0 pulled)");
  }

  @Test
  void refusalsExitNonZeroWithOneReadableLine() {
    CliRun unknown = run("--target", "127.0.0.1:" + n1.grpcPort(), "--group", "nope");
    assertThat(unknown.exit()).isEqualTo(1);
    assertThat(unknown.err().strip()).isEqualTo("error: NOT_FOUND: group nope not found");

    CliRun single = run("--target", "127.0.0.1:" + n1.grpcPort(), "--group", "one");
    assertThat(single.exit()).isEqualTo(1);
    assertThat(single.err().strip()).startsWith("error: FAILED_PRECONDITION: group one keeps a single copy")
        .doesNotContain("\n");

    CliRun range = run("--target", "127.0.0.1:" + n1.grpcPort(), "--group", "two", "--shard", "3");
    assertThat(range.exit()).isEqualTo(1);
    assertThat(range.err()).contains("INVALID_ARGUMENT: shard 3 is out of range: group two has 1 shard(s)");

    CliRun both = run("--target", "127.0.0.1:" + n1.grpcPort(), "--group", "two", "--shard", "0", "--all");
    assertThat(both.exit()).isEqualTo(2);
    assertThat(both.err()).contains("give either --shard N or --all, not both");
  }

  private static CliRun run(String... args) {
    CommandLine cl = new CommandLine(new RepairRunCommand());
    cl.setExecutionExceptionHandler(new CliErrorHandler());
    return CliRun.of(cl, args);
  }
}
