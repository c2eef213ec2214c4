package dev.arbor.repair.handoff;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.cluster.DataNode;
import dev.arbor.property.Defect;
import dev.arbor.property.DefectSwitches;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * {@link Defect#ORPHAN_SERVES} brings back the orphaned copy that serves: a node whose copy of a
 * replicated shard has been out of the placement past the debounce (the first step of
 * {@code OrphanedCopyResurrectionTest}) never gets an orphan, so the copy is not fenced (no
 * refusal for internal writes or repair sessions), not handed off and not dropped. With
 * {@link DefectSwitches#NONE} the same tracker makes it an orphan.
 */
class OrphanServesDefectSwitchTest {
  private static final ShardRef COPY = new ShardRef("g", 0);

  /** The tracker of node "self", which holds COPY while nodes a and b own it (two copies). */
  private static OrphanTracker trackerOutOfPlacement(DefectSwitches defects, AtomicLong clock) {
    List<DataNode> members = List.of(DataNode.of("a", "127.0.0.1:1"), DataNode.of("b", "127.0.0.1:2"));
    CopyOwnership ownership = new CopyOwnership("self", () -> members, g -> OptionalInt.of(2));
    return new OrphanTracker(ownership, () -> List.of(COPY), Duration.ofSeconds(10), clock::get, defects);
  }

  private static List<Object> afterDebounceAndAbsenceFence(DefectSwitches defects) {
    AtomicLong clock = new AtomicLong();
    OrphanTracker tracker = trackerOutOfPlacement(defects, clock);
    List<ShardRef> first = tracker.scan();
    clock.addAndGet(Duration.ofSeconds(11).toNanos());
    List<ShardRef> found = tracker.scan();
    tracker.mark(new ShardRef("g", 1), "away longer than the grace");
    return List.of(first, found, tracker.orphans(), String.valueOf(tracker.refusal("g", 0)));
  }

  @Test
  void orphanServes_aCopyOutOfPlacementIsNeverFencedHandedOffOrDropped() {
    assertThat(afterDebounceAndAbsenceFence(DefectSwitches.of(Defect.ORPHAN_SERVES)))
        .containsExactly(List.of(), List.of(), java.util.Set.of(), "null");
    List<Object> fixed = afterDebounceAndAbsenceFence(DefectSwitches.NONE);
    assertThat(fixed.get(1)).isEqualTo(List.of(COPY));
    assertThat(fixed.get(2)).isEqualTo(java.util.Set.of(COPY, new ShardRef("g", 1)));
    assertThat((String) fixed.get(3)).contains("orphan");
  }
}
