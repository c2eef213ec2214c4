package dev.arbor.repair;

import static dev.arbor.repair.RepairTestCluster.outcome;
import static dev.arbor.repair.RepairTestCluster.record;
import static dev.arbor.repair.RepairTestCluster.shardOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.cluster.v1.QueryShardsRequest;
import dev.arbor.api.cluster.v1.ShardList;
import dev.arbor.api.repair.v1.RepairProgress;
import dev.arbor.property.PropertyRecord;
import dev.arbor.observability.trace.Tracer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import dev.arbor.testing.SmallDisk;

/**
 * A real fatal Lucene error in one shard copy of a data node: n1's index directory of g/1 is a
 * 1 MiB tmpfs (mounting needs root, which CI and the developer machines have; elsewhere skipped),
 * filled by a Lucene flush. The internal Read, QueryShards and Write of that shard, its tree build
 * and repair sessions all answer UNAVAILABLE (or fail) naming group and shard and the restart
 * that recovers it; shard 0 of the same group keeps serving and repairing.
 */
class ShardFatalErrorDataNodeTest {
  @TempDir Path dir;
  private SmallDisk disk;

  @AfterEach
  void unmount() throws Exception {
    if (disk != null) {
      disk.close();
    }
  }

  private static List<String> idsOfShard(int shard, int n) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; ids.size() < n; i++) {
      if (shardOf("g", "p" + i, 2) == shard) {
        ids.add("p" + i);
      }
    }
    return ids;
  }

  private static void assertOutOfService(StatusRuntimeException e) {
    assertThat(e).isNotNull();
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(e.getStatus().getDescription()).contains("shard 1 of group g is out of service")
        .contains("recovers the shard from the write-ahead log");
  }

  @Test
  void internalCallsTreeBuildsAndRepairOfThatShardFailLoudlyWhileOtherShardsServe() throws Exception {
    try (RepairTestCluster c = new RepairTestCluster(dir, 2, "off")) {
      c.group("g", 2, 1);
      List<String> shard0 = idsOfShard(0, 2);
      List<String> shard1 = idsOfShard(1, 400);
      long now = Tracer.nowNanos();
      c.write("n1", 2, List.of(record("g", shard0.get(0), now, 0, "a")));
      Path shardDir = Files.createDirectories(c.dataDir("n1").resolve("data/g/shard-1"));
      disk = SmallDisk.mount(shardDir, "1m");
      String big = "x".repeat(200_000);
      StatusRuntimeException fatal = null;
      for (String id : shard1) {
        try {
          c.write("n1", 2, List.<PropertyRecord>of(record("g", id, now, 0, big)));
        } catch (StatusRuntimeException e) {
          fatal = e;
          break;
        }
      }
      assertThat(fatal).as("a flush fills the 1 MiB disk").isNotNull();
      assertThat(fatal.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
      assertThat(fatal.getStatus().getDescription()).contains("shard 1 of group g").contains("outcome is unknown");

      // Internal Write, Read and QueryShards of shard 1.
      assertOutOfService(catchThrowableOfType(StatusRuntimeException.class,
          () -> c.write("n1", 2, List.<PropertyRecord>of(record("g", shard1.get(0), now + 1, 0, "later")))));
      assertOutOfService(catchThrowableOfType(StatusRuntimeException.class,
          () -> c.read("n1", "g", 2, List.of(shard1.get(0)))));
      DataNodeServiceGrpc.DataNodeServiceBlockingStub stub = DataNodeServiceGrpc.newBlockingStub(c.channel("n1"))
          .withDeadlineAfter(30, TimeUnit.SECONDS);
      QueryRequest q = QueryRequest.newBuilder().addGroups("g").setLimit(10).build();
      assertOutOfService(catchThrowableOfType(StatusRuntimeException.class, () -> stub.queryShards(
          QueryShardsRequest.newBuilder().setQuery(q).putShards("g", ShardList.newBuilder().addShards(1).build())
              .build())));
      // Shard 0 keeps serving.
      assertThat(stub.queryShards(QueryShardsRequest.newBuilder().setQuery(q)
          .putShards("g", ShardList.newBuilder().addShards(0).build()).build()).getPropertiesCount()).isEqualTo(1);
      assertThat(c.write("n1", 2, List.of(record("g", shard0.get(1), now, 0, "b")))).isEqualTo(1);
      assertThat(c.read("n1", "g", 2, shard0)).hasSize(2);

      // Tree build and repair of shard 1, from either side.
      var build = c.tree("n1", "g", 1);
      assertThat(build.getOutcome()).isEqualTo("FAILED");
      assertThat(build.getMessage()).contains("shard 1 of group g is out of service");
      for (String origin : List.of("n1", "n2")) {
        RepairProgress out = outcome(c.repair(origin, "g", 1));
        assertThat(out.getOutcome().getStatus()).as("from %s", origin).isEqualTo("FAILED");
        assertThat(out.getOutcome().getMessage()).as("from %s", origin).contains("shard 1 of group g is out of service");
      }
      // Shard 0 repairs: n2 gets n1's records of it.
      assertThat(outcome(c.repair("n2", "g", 0)).getOutcome().getStatus()).isEqualTo("COMPLETED");
      assertThat(c.read("n2", "g", 2, shard0)).hasSize(2);
    }
  }
}
