package dev.arbor.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.errors.FailedPreconditionException;
import dev.arbor.property.ShardRouter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PlacementTest {

  private static List<DataNode> nodes(int n) {
    List<DataNode> out = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      out.add(DataNode.of("10.0.0." + i + ":17913", "10.0.0." + i + ":17913"));
    }
    return out;
  }

  private static List<DataNode> randomNodes(Random rnd, int n) {
    Set<DataNode> out = new LinkedHashSet<>();
    while (out.size() < n) {
      String id = "node-" + Integer.toHexString(rnd.nextInt()) + ":" + (17000 + rnd.nextInt(1000));
      out.add(DataNode.of(id, id));
    }
    return new ArrayList<>(out);
  }

  private static List<String> ids(List<DataNode> list) {
    return list.stream().map(n -> n.id().value()).toList();
  }

  @Test
  void scoreIsXxHash64OfGroupShardAndNodeId() {
    long expected = ShardRouter.xxHash64("sw/7/10.0.0.1:17913".getBytes(StandardCharsets.UTF_8));

    assertThat(Placement.score("sw", 7, NodeId.of("10.0.0.1:17913"))).isEqualTo(expected);
  }

  @Test
  void placementIsNodesSortedByUnsignedScoreDescending() {
    List<DataNode> all = nodes(6);
    List<DataNode> expected = new ArrayList<>(all);
    expected.sort(
        (a, b) ->
            Long.compareUnsigned(Placement.score("g", 3, b.id()), Placement.score("g", 3, a.id())));

    assertThat(Placement.of(all).place("g", 3, 6)).containsExactlyElementsOf(expected);
    assertThat(Placement.of(all).place("g", 3, 2))
        .containsExactlyElementsOf(expected.subList(0, 2));
  }

  /** Pins the function: a change here moves data between releases; see docs/placement.md. */
  @Test
  void goldenPlacements() {
    Placement p = Placement.of(nodes(5));

    assertThat(ids(p.place("sw", 0, 3))).containsExactly(GOLDEN_SW_0);
    assertThat(ids(p.place("sw", 1, 3))).containsExactly(GOLDEN_SW_1);
    assertThat(ids(p.place("other-group", 0, 2))).containsExactly(GOLDEN_OTHER_0);
  }

  private static final String[] GOLDEN_SW_0 = {
    "10.0.0.3:17913", "10.0.0.5:17913", "10.0.0.4:17913"
  };
  private static final String[] GOLDEN_SW_1 = {
    "10.0.0.5:17913", "10.0.0.3:17913", "10.0.0.1:17913"
  };
  private static final String[] GOLDEN_OTHER_0 = {"10.0.0.1:17913", "10.0.0.2:17913"};

  @Test
  void deterministicAndIndependentOfInputOrderAndDuplicates() {
    long seed = System.nanoTime();
    Random rnd = new Random(seed);
    for (int round = 0; round < 50; round++) {
      List<DataNode> all = randomNodes(rnd, 1 + rnd.nextInt(8));
      List<DataNode> shuffled = new ArrayList<>(all);
      shuffled.addAll(all.subList(0, rnd.nextInt(all.size() + 1))); // duplicates
      Collections.shuffle(shuffled, rnd);
      Placement a = Placement.of(all);
      Placement b = Placement.of(shuffled);
      assertThat(b.nodes()).as("seed=%d round=%d", seed, round).isEqualTo(a.nodes());
      for (int i = 0; i < 20; i++) {
        String group = "g" + rnd.nextInt(100);
        int shard = rnd.nextInt(64);
        int copies = 1 + rnd.nextInt(all.size());
        List<DataNode> placed = a.place(group, shard, copies);
        assertThat(b.place(group, shard, copies))
            .as("seed=%d round=%d %s/%d", seed, round, group, shard)
            .isEqualTo(placed)
            .isEqualTo(Placement.of(all).place(group, shard, copies));
        assertThat(placed)
            .as("seed=%d round=%d %s/%d", seed, round, group, shard)
            .hasSize(copies)
            .doesNotHaveDuplicates()
            .isSubsetOf(all);
        // fewer copies = a prefix of more copies
        assertThat(a.place(group, shard, all.size()).subList(0, copies))
            .as("seed=%d round=%d", seed, round)
            .isEqualTo(placed);
      }
    }
  }

  @Test
  void balancedPrimariesAndCopies() {
    long seed = System.nanoTime();
    Random rnd = new Random(seed);
    List<DataNode> all = randomNodes(rnd, 5);
    Placement p = Placement.of(all);
    int copies = 3;
    int pairs = 0;
    Map<DataNode, Integer> primaries = new HashMap<>();
    Map<DataNode, Integer> held = new HashMap<>();
    for (int g = 0; g < 20; g++) {
      String group = "group-" + rnd.nextInt(1_000_000);
      for (int shard = 0; shard < 50; shard++) {
        pairs++;
        List<DataNode> placed = p.place(group, shard, copies);
        primaries.merge(placed.get(0), 1, Integer::sum);
        placed.forEach(n -> held.merge(n, 1, Integer::sum));
      }
    }
    double expectedPrimaries = pairs / 5.0; // 200, sd ≈ 12.6
    double expectedHeld = pairs * copies / 5.0; // 600, sd ≈ 15.5
    for (DataNode n : all) {
      assertThat(primaries.getOrDefault(n, 0))
          .as("seed=%d primaries of %s: %s", seed, n, primaries)
          .isBetween((int) (expectedPrimaries * 0.7), (int) (expectedPrimaries * 1.3));
      assertThat(held.getOrDefault(n, 0))
          .as("seed=%d copies held by %s: %s", seed, n, held)
          .isBetween((int) (expectedHeld * 0.85), (int) (expectedHeld * 1.15));
    }
  }

  @Test
  void addingANodeMovesOnlyTheShardsItWinsAndKeepsTheOrderOfTheOthers() {
    long seed = System.nanoTime();
    Random rnd = new Random(seed);
    for (int round = 0; round < 20; round++) {
      List<DataNode> before = randomNodes(rnd, 2 + rnd.nextInt(6));
      List<DataNode> after = new ArrayList<>(before);
      DataNode joined = randomNodes(rnd, 1).get(0);
      if (before.contains(joined)) {
        continue;
      }
      after.add(rnd.nextInt(after.size() + 1), joined);
      Placement old = Placement.of(before);
      Placement now = Placement.of(after);
      int copies = 1 + rnd.nextInt(before.size());
      int moved = 0;
      for (int shard = 0; shard < 200; shard++) {
        String group = "g" + rnd.nextInt(10);
        List<DataNode> was = old.place(group, shard, copies);
        List<DataNode> is = now.place(group, shard, copies);
        String what =
            String.format(
                "seed=%d round=%d %s/%d was=%s is=%s", seed, round, group, shard, was, is);
        if (!is.contains(joined)) {
          assertThat(is).as(what).isEqualTo(was);
        } else {
          moved++;
          List<DataNode> rest = new ArrayList<>(is);
          rest.remove(joined);
          // the old nodes keep their relative order; only the last old copy is dropped
          assertThat(rest).as(what).isEqualTo(was.subList(0, copies - 1));
        }
      }
      // the new node wins about copies/(n+1) of the shards (binomial; allow 5 standard deviations)
      double p = (double) copies / after.size();
      double expected = 200 * p;
      double slack = 5 * Math.sqrt(200 * p * (1 - p)) + 1;
      assertThat((double) moved)
          .as("seed=%d round=%d moved", seed, round)
          .isBetween(expected - slack, expected + slack);
    }
  }

  @Test
  void removingANodeChangesOnlyTheListsThatContainedIt() {
    long seed = System.nanoTime();
    Random rnd = new Random(seed);
    for (int round = 0; round < 20; round++) {
      List<DataNode> before = randomNodes(rnd, 3 + rnd.nextInt(6));
      DataNode left = before.get(rnd.nextInt(before.size()));
      List<DataNode> after = new ArrayList<>(before);
      after.remove(left);
      Placement old = Placement.of(before);
      Placement now = Placement.of(after);
      int copies = 1 + rnd.nextInt(after.size());
      for (int shard = 0; shard < 200; shard++) {
        String group = "g" + rnd.nextInt(10);
        List<DataNode> was = old.place(group, shard, copies);
        List<DataNode> is = now.place(group, shard, copies);
        String what =
            String.format(
                "seed=%d round=%d %s/%d was=%s is=%s", seed, round, group, shard, was, is);
        if (!was.contains(left)) {
          assertThat(is).as(what).isEqualTo(was);
        } else {
          List<DataNode> rest = new ArrayList<>(was);
          rest.remove(left);
          // survivors keep their order; the next-ranked node is appended
          assertThat(is.subList(0, copies - 1)).as(what).isEqualTo(rest);
          assertThat(was).as(what).doesNotContain(is.get(copies - 1));
        }
      }
    }
  }

  @Test
  void tooManyCopiesIsAClearError() {
    Placement two = Placement.of(nodes(2));

    assertThatThrownBy(() -> two.place("g", 0, 3))
        .isInstanceOf(FailedPreconditionException.class)
        .hasMessage("group g needs 3 copies but only 2 data nodes are registered");
    assertThatThrownBy(() -> two.requireCapacity("g", 3))
        .isInstanceOf(FailedPreconditionException.class)
        .hasMessage("group g needs 3 copies but only 2 data nodes are registered");
    assertThatThrownBy(() -> Placement.of(nodes(1)).place("g", 0, 2))
        .hasMessage("group g needs 2 copies but only 1 data node is registered");
    assertThatThrownBy(() -> Placement.of(List.of()).place("g", 0, 1))
        .hasMessage("group g needs 1 copy but no data nodes are registered");
    assertThat(two.canPlace(2)).isTrue();
    assertThat(two.canPlace(3)).isFalse();
    two.requireCapacity("g", 2); // no exception
  }

  @Test
  void cappedReturnsAllNodesInPlacementOrder() {
    Placement two = Placement.of(nodes(2));
    Placement five = Placement.of(nodes(5));

    assertThat(two.placeCapped("g", 4, 3))
        .hasSize(2)
        .isEqualTo(two.place("g", 4, 2))
        .isEqualTo(Placement.of(nodes(2)).placeCapped("g", 4, 10));
    assertThat(five.placeCapped("g", 4, 3)).isEqualTo(five.place("g", 4, 3));
    assertThatThrownBy(() -> Placement.of(List.of()).placeCapped("g", 0, 2))
        .isInstanceOf(FailedPreconditionException.class)
        .hasMessage("group g needs 2 copies but no data nodes are registered");
  }

  @Test
  void sameIdWithTwoAddressesIsRejected() {
    assertThatThrownBy(
            () -> Placement.of(List.of(DataNode.of("n1", "a:1"), DataNode.of("n1", "b:1"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("n1")
        .hasMessageContaining("a:1")
        .hasMessageContaining("b:1");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -1})
  void copiesMustBePositive(int copies) {
    assertThatThrownBy(() -> Placement.of(nodes(3)).place("g", 0, copies))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("copies");
  }

  @Test
  void copiesOfReplicasAndArgumentChecks() {
    assertThat(Placement.copies(0)).isEqualTo(1);
    assertThat(Placement.copies(1)).isEqualTo(2);
    assertThatThrownBy(() -> Placement.copies(-1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Placement.of(nodes(3)).place("a/b", 0, 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Placement.of(nodes(3)).place("g", -1, 1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void nodeValidation() {
    assertThatThrownBy(() -> NodeId.of(" ")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> NodeId.of(" n1")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> DataNode.of("n1", "")).isInstanceOf(IllegalArgumentException.class);
    assertThat(DataNode.of("n1", "h:1")).isEqualTo(new DataNode(new NodeId("n1"), "h:1"));
  }
}
