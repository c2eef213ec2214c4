package dev.arbor.repair.sync;

import static dev.arbor.repair.sync.RepairSessionTest.rec;
import static dev.arbor.repair.sync.RepairSessionTest.shard;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.property.Defect;
import dev.arbor.property.DefectSwitches;
import dev.arbor.property.EntityKey;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The repair-session defect switches bring their defects back, on the scenario of
 * {@code RepairSessionTest.misroutedRecordsAreRejectedOnBothSides_andTheSessionFailsSayingHowManyAndWhy}
 * (which keeps asserting the fixed outcome with {@link DefectSwitches#NONE}): a client holding, in
 * shard 0 of 2, copies of entities that route to shard 1 pushes them to a server over real gRPC.
 */
class SessionDefectSwitchesTest {
  private static final String G = "g";
  @TempDir Path dir;

  private static List<String> misrouted() {
    return IntStream.range(0, 200).mapToObj(i -> "bad" + i).filter(i -> shard(i, 2) == 1).limit(3).toList();
  }

  @Test
  void noRoutingCheck_misroutedRecordsAreStoredInTheWrongShardAndTheSessionSucceeds() throws Exception {
    DefectSwitches on = DefectSwitches.of(Defect.NO_ROUTING_CHECK);
    try (SyncNode c = new SyncNode(dir, "c", 2, on); SyncNode s = new SyncNode(dir, "s", 2, on)) {
      for (String id : misrouted()) {
        c.putInShard(0, rec(id, 5, 0, "misrouted"));
      }
      c.syncWith(s, G, 0);
      for (String id : misrouted()) {
        assertThat(s.store.latest(G, 0, new EntityKey(G, "t", id))).as("%s stored in shard 0", id).isNotNull();
      }
      assertThat(s.observed.rejected.get()).isZero();
      assertThat(s.observed.serverSessions.poll(10, TimeUnit.SECONDS)).isEmpty();
    }
  }

  @Test
  void rejectedRecordsComplete_aSessionThatRejectedRecordsStillSucceedsOnBothEnds() throws Exception {
    DefectSwitches on = DefectSwitches.of(Defect.REJECTED_RECORDS_COMPLETE);
    // Push side: the server rejects (routing is still checked) but the round would go on as COMPLETED.
    try (SyncNode c = new SyncNode(dir, "c", 2, on); SyncNode s = new SyncNode(dir, "s", 2, on)) {
      for (String id : misrouted()) {
        c.putInShard(0, rec(id, 5, 0, "misrouted"));
      }
      c.syncWith(s, G, 0); // no SyncFailedException
      for (String id : misrouted()) {
        assertThat(s.store.latest(G, 0, new EntityKey(G, "t", id))).as("%s never stored", id).isNull();
      }
      assertThat(s.observed.rejected.get()).as("counted, as before the fix").isEqualTo(misrouted().size());
      assertThat(s.observed.serverSessions.poll(10, TimeUnit.SECONDS)).as("the server's session succeeded").isEmpty();
    }
    // Pull side: the client rejects what it receives, and the hop still succeeds.
    try (SyncNode c = new SyncNode(dir, "c2", 2, on); SyncNode s = new SyncNode(dir, "s2", 2, on)) {
      for (String id : misrouted()) {
        s.putInShard(0, rec(id, 5, 0, "misrouted"));
      }
      c.syncWith(s, G, 0);
      assertThat(c.observed.rejected.get()).isEqualTo(misrouted().size());
    }
  }
}
