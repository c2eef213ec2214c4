package dev.arbor.repair.handoff;

import dev.arbor.runtime.NodeRuntime;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.cluster.v1.WriteOutcome;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.Placement;
import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardWrite;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that owns a shard again while it is still handing off its orphaned copy must not reuse
 * that copy: it is dropped and starts empty. Real store on disk; the owners are a fake writer,
 * because an owner that stays registered yet refuses pushes until the placement flips back cannot
 * be produced with real nodes (stopping one deregisters it).
 */
class OwnershipRegainedDuringHandOffTest {
  @TempDir Path dir;

  private static byte[] source(long revision) {
    return dev.arbor.api.banyandb.property.v1.Property.newBuilder()
        .setMetadata(dev.arbor.api.banyandb.common.v1.Metadata.newBuilder().setGroup("g").setName("t")
            .setModRevision(revision).setCreateRevision(revision))
        .setId("k").build().toByteArray();
  }

  @Test
  void theCopyIsDroppedEvenThoughTheNodeOwnsTheShardAgain() throws Exception {
    List<DataNode> all = List.of(DataNode.of("a", "127.0.0.1:1"), DataNode.of("b", "127.0.0.1:2"),
        DataNode.of("c", "127.0.0.1:3"));
    List<DataNode> order = Placement.of(all).place("g", 0, 3);
    String self = order.get(2).id().value(); // out of the 2-copy placement while all three are registered
    AtomicReference<List<DataNode>> members = new AtomicReference<>(all);
    AtomicBoolean ownersAccept = new AtomicBoolean(false);
    List<StoredProperty> received = new CopyOnWriteArrayList<>();
    OwnerWriter owners = (owner, records) -> {
      if (!ownersAccept.get()) {
        throw new IllegalStateException("owner " + owner.id() + " unreachable");
      }
      received.addAll(records);
      return java.util.concurrent.CompletableFuture.completedFuture(
          Collections.nCopies(records.size(), WriteOutcome.WRITE_OUTCOME_STORED));
    };
    HandOffSettings settings = new HandOffSettings(Duration.ZERO, Duration.ofMillis(50), Duration.ofMillis(200), 10,
        Duration.ofMillis(20));
    try (PropertyStore store = PropertyStore.open(dir, g -> true)) {
      long now = Instant.now().toEpochMilli() * 1_000_000L;
      store.applyEach(List.of(new ShardWrite("g", 0,
          PropertyRecord.live(new EntityKey("g", "t", "k"), now, now, source(now)))));
      CopyOwnership ownership = new CopyOwnership(self, members::get, g -> OptionalInt.of(2));
      OrphanTracker tracker = new OrphanTracker(ownership,
          () -> store.allShards().stream().map(s -> new ShardRef(s.group(), s.shard())).toList(),
          settings.debounce(), System::nanoTime);
      CountDownLatch closed = new CountDownLatch(1);
      HandOff handOff = new HandOff(store, ownership, owners, settings, System::nanoTime, d -> {
        try {
          return !closed.await(d.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      });
      OrphanHandOffs handOffs = new OrphanHandOffs(NodeRuntime.system(), tracker, handOff, store, settings,
          Duration.ofMinutes(10), Duration.ofSeconds(1), new LastAlive(dir.resolve("last-alive")), closed,
          new SimpleMeterRegistry());
      try {
        handOffs.start();
        await("orphan found, hand-off retrying").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
            .until(() -> tracker.refusal("g", 0) != null);
        // A node of the placement leaves: this node owns the shard again, mid hand-off.
        members.set(List.of(order.get(0), order.get(2)));
        assertThat(ownership.owns(new ShardRef("g", 0))).contains(true);
        assertThat(tracker.refusal("g", 0)).as("still fenced while it is handed off").isNotNull();
        ownersAccept.set(true);
        await("handed off and dropped").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
            .until(() -> store.existingShard("g", 0) == null && tracker.refusal("g", 0) == null);
        assertThat(received).extracting(StoredProperty::getEntity).containsExactly("g/t/k");
        assertThat(store.shard("g", 0).latest("g/t/k")).as("a new copy starts empty").isNull();
      } finally {
        handOffs.close();
      }
    }
  }
}
