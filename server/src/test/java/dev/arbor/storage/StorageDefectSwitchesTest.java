package dev.arbor.storage;

import static dev.arbor.storage.StorageTestSupport.propertyBytes;
import static dev.arbor.storage.StorageTestSupport.str;
import static dev.arbor.storage.StorageTestSupport.tag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.property.Defect;
import dev.arbor.property.DefectSwitches;
import dev.arbor.property.EntityKey;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each storage defect switch really brings its defect back: the scenario of the defect's regression
 * test ({@code EqualRevisionConvergenceTest}, {@code WalReplayLwwTest}, {@code WalFsyncFailureTest},
 * {@code GroupIncarnationStoreTest}) run once with the switch on, showing the defective outcome,
 * and once with {@link DefectSwitches#NONE}, showing the fixed one.
 */
class StorageDefectSwitchesTest {
  private static final String G = "g";
  private static final int SHARDS = 3;

  @TempDir Path tmp;

  private static PropertyRecord version(String id, long rev, String value) {
    EntityKey k = new EntityKey(G, "t", id);
    return PropertyRecord.live(k, rev, 1, propertyBytes(k, rev, 1, List.of(tag("v", str(value)))));
  }

  private static ShardWrite write(PropertyRecord r) {
    return new ShardWrite(G, ShardRouter.shardOf(r.key(), SHARDS), r);
  }

  private static PropertyRecord latest(PropertyStore s, PropertyRecord r) {
    return s.latest(G, write(r).shard(), r.key());
  }

  private static PropertyStore open(Path dir, GroupIncarnations groups, DefectSwitches defects) throws IOException {
    return PropertyStore.open(dir, groups, new StoreEvents(), WriteGuard.NONE, defects);
  }

  private static GroupIncarnations anyGroup() {
    return GroupIncarnations.withoutIncarnations(g -> true);
  }

  // --- NO_CONTENT_TIE_BREAK --------------------------------------------------------------------

  /** Two replicas took different bytes at one revision, then pushed to each other: equal after? */
  private boolean collidingVersionsConverge(String name, DefectSwitches defects) throws IOException {
    PropertyRecord a = version("k", 100, "writer-a");
    PropertyRecord b = version("k", 100, "writer-b");
    try (PropertyStore ra = open(tmp.resolve(name + "-a"), anyGroup(), defects);
        PropertyStore rb = open(tmp.resolve(name + "-b"), anyGroup(), defects)) {
      ra.applyIfNewer(List.of(write(a)));
      rb.applyIfNewer(List.of(write(b)));
      for (int pass = 0; pass < 2; pass++) {
        rb.applyIfNewer(List.of(write(latest(ra, a))));
        ra.applyIfNewer(List.of(write(latest(rb, b))));
      }
      return latest(ra, a).equals(latest(rb, b));
    }
  }

  @Test
  void noContentTieBreak_equalRevisionsWithDifferentBytesNeverConverge() throws IOException {
    assertThat(collidingVersionsConverge("on", DefectSwitches.of(Defect.NO_CONTENT_TIE_BREAK)))
        .as("switched on: each replica keeps its own copy forever").isFalse();
    assertThat(collidingVersionsConverge("off", DefectSwitches.NONE)).as("fixed: the content hash decides").isTrue();
  }

  // --- WAL_REPLAY_UNCONDITIONAL_PUT ------------------------------------------------------------

  /** What a store holds after replaying a left-behind segment with an older frame over a newer commit. */
  private PropertyRecord afterReplayOfAnOlderFrame(String name, DefectSwitches defects) throws IOException {
    PropertyRecord v1 = version("k", 1, "old");
    PropertyRecord v2 = version("k", 2, "new");
    Path dir = tmp.resolve(name);
    try (PropertyStore s = open(dir, anyGroup(), defects)) {
      s.applyIfNewer(List.of(write(v2)));
    } // close checkpoints: v2 committed, the WAL empty
    try (WriteAheadLog wal = WriteAheadLog.open(dir.resolve("wal")).log()) {
      wal.awaitDurable(wal.append(WalBatchCodec.encode(List.of(write(v1)))));
    }
    try (PropertyStore s = open(dir, anyGroup(), defects)) {
      return latest(s, v1);
    }
  }

  @Test
  void walReplayUnconditionalPut_anOlderFrameOverwritesTheNewerCommittedDocument() throws IOException {
    assertThat(afterReplayOfAnOlderFrame("on", DefectSwitches.of(Defect.WAL_REPLAY_UNCONDITIONAL_PUT)))
        .as("switched on: v1 replaced v2").isEqualTo(version("k", 1, "old"));
    assertThat(afterReplayOfAnOlderFrame("off", DefectSwitches.NONE)).isEqualTo(version("k", 2, "new"));
  }

  // --- WAL_ROLL_DOES_NOT_LATCH -----------------------------------------------------------------

  @Test
  void walRollDoesNotLatch_aFailedRollFsyncLetsALaterFsyncAcknowledgeTheWrite() throws Exception {
    FaultySync sync = new FaultySync();
    WriteAheadLog wal = WriteAheadLog.open(tmp.resolve("wal"), sync,
        DefectSwitches.of(Defect.WAL_ROLL_DOES_NOT_LATCH)).log();
    CountDownLatch release = new CountDownLatch(1);
    try {
      wal.awaitDurable(wal.append("before".getBytes(StandardCharsets.UTF_8)));
      sync.release = release;
      sync.failOn = Thread.currentThread();
      long unsynced = wal.append("pages the kernel may drop".getBytes(StandardCharsets.UTF_8));
      assertThat(sync.stalled.await(10, TimeUnit.SECONDS)).isTrue();
      assertThatThrownBy(wal::roll).as("the roll's fsync error is rethrown as it was")
          .isInstanceOf(IOException.class).hasMessage("Input/output error (injected)");
      sync.failOn = null;
      release.countDown();
      // The defect: the stalled fsync succeeds and acknowledges the write the failed one may have lost.
      wal.awaitDurable(unsynced);
      assertThat(wal.failure()).as("nothing latched").isNull();
      wal.awaitDurable(wal.append("after".getBytes(StandardCharsets.UTF_8)));
    } finally {
      release.countDown();
      wal.close();
    }
    // With NONE the same sequence latches the log: WalFsyncFailureTest.aFailedFsyncDuringRollLatchesTheLog_*.
  }

  // --- INCARNATION_IGNORED ---------------------------------------------------------------------

  /** Metadata as the store sees it: one group at a settable incarnation. */
  private static final class Catalog implements GroupIncarnations {
    final Map<String, GroupIncarnation> groups = new ConcurrentHashMap<>();

    @Override
    public boolean exists(String group) {
      return groups.containsKey(group);
    }

    @Override
    public Optional<GroupIncarnation> incarnation(String group) {
      return Optional.ofNullable(groups.get(group));
    }
  }

  /**
   * A node down while its group was deleted and re-created: what it serves of the old
   * incarnation's record after a restart, and of another record after a re-create it missed while
   * running (reconcile on the next metadata event).
   */
  private PropertyRecord[] oldIncarnationServed(String name, DefectSwitches defects) throws IOException {
    Path dir = tmp.resolve(name);
    Catalog meta = new Catalog();
    meta.groups.put(G, GroupIncarnation.random());
    PropertyRecord atRestart = version("restart", 5, "old group");
    PropertyRecord atReconcile = version("reconcile", 5, "old group");
    try (PropertyStore s = open(dir, meta, defects)) {
      s.applyIfNewer(List.of(write(atRestart)));
    }
    GroupIncarnation second = GroupIncarnation.random();
    meta.groups.put(G, second);
    PropertyRecord[] served = new PropertyRecord[2];
    try (PropertyStore s = open(dir, meta, defects)) {
      served[0] = latest(s, atRestart);
      assertThat(s.incarnation(G)).contains(second);
      s.applyIfNewer(List.of(write(atReconcile)));
      meta.groups.put(G, GroupIncarnation.random());
      s.reconcile(G);
      served[1] = latest(s, atReconcile);
    }
    return served;
  }

  @Test
  void incarnationIgnored_theDeletedGroupsDataIsServedByItsNamesake() throws IOException {
    assertThat(oldIncarnationServed("on", DefectSwitches.of(Defect.INCARNATION_IGNORED)))
        .as("switched on: the old incarnation's records come back, at open and on reconcile")
        .containsExactly(version("restart", 5, "old group"), version("reconcile", 5, "old group"));
    assertThat(oldIncarnationServed("off", DefectSwitches.NONE)).containsExactly(null, null);
  }
}
