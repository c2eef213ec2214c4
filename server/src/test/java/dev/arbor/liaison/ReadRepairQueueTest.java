package dev.arbor.liaison;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.cluster.DataNodes;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import dev.arbor.storage.ShardWrite;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Query-time repair against a real data node: a push counts as written only when the node then
 * holds the copy; a node that already had something newer is "superseded", a refused copy a
 * failure (once, all three counted as written).
 */
class ReadRepairQueueTest {
  private static final String G = "g";
  private static final int SHARDS = 2;

  @TempDir Path dir;
  private LoopbackDataNode dataNode;
  private DataNodes nodes;
  private ReadRepairQueue queue;

  @BeforeEach
  void start() throws Exception {
    dataNode = LoopbackDataNode.start(dir, G, SHARDS);
    nodes = new DataNodes(Duration.ofSeconds(10));
    nodes.update(List.of(dataNode.node));
    queue = new ReadRepairQueue(nodes, 16);
  }

  @AfterEach
  void stop() throws Exception {
    queue.close();
    nodes.close();
    dataNode.close();
  }

  private static PropertyRecord record(String id, long rev) {
    return LoopbackDataNode.record(G, id, rev);
  }

  private static StoredProperty proto(PropertyRecord r) {
    return LoopbackDataNode.proto(G, SHARDS, r);
  }

  private void awaitSettled(long tasks) {
    await().atMost(Duration.ofSeconds(10)).until(
        () -> queue.repaired() + queue.superseded() + queue.failed() == tasks);
  }

  @Test
  void aPushIsWrittenOnlyWhenTheNodeHoldsIt_newerThereIsSuperseded_refusedIsFailed() {
    PropertyRecord newer = record("taken", 50);
    dataNode.store.applyIfNewer(List.of(new ShardWrite(G, ShardRouter.shardOf(newer.key(), SHARDS), newer)));

    queue.repair(dataNode.node, proto(record("missing", 10)));
    awaitSettled(1);
    queue.repair(dataNode.node, proto(record("taken", 20)));
    awaitSettled(2);
    queue.repair(dataNode.node,
        proto(record("bad", 10)).toBuilder().setSha(ByteString.copyFrom(new byte[64])).build());
    awaitSettled(3);

    assertThat(queue.enqueued()).isEqualTo(3);
    assertThat(queue.repaired()).as("written").isEqualTo(1);
    assertThat(queue.superseded()).as("node held newer").isEqualTo(1);
    assertThat(queue.failed()).as("refused: wrong hash").isEqualTo(1);
    PropertyRecord stored = dataNode.store.latest(G, ShardRouter.shardOf(record("missing", 10).key(), SHARDS),
        record("missing", 10).key());
    assertThat(stored).isEqualTo(record("missing", 10));
    assertThat(dataNode.store.latest(G, ShardRouter.shardOf(newer.key(), SHARDS), newer.key())).isEqualTo(newer);
  }
}
