package dev.arbor.repair.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.repair.v1.DescendReply;
import dev.arbor.api.repair.v1.DescendRequest;
import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.repair.tree.ServedTree;
import dev.arbor.repair.tree.SlotSummary;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A descent names the leaves it pushes, contests and lists alike whether it kept the slots'
 * entities while indexing them or reads the slots a second time (groups too large to keep): both
 * sides driven in-process over two real replicas' trees, once with every entity kept and once
 * with none.
 */
class DescentKeptEntitiesTest {
  private static final String G = "g";

  @TempDir Path dir;

  @Test
  void keptAndReReadEntitiesNameTheSameLeaves() throws Exception {
    try (SyncNode c = new SyncNode(dir, "c", 1); SyncNode s = new SyncNode(dir, "s", 1)) {
      List<PropertyRecord> common = new ArrayList<>();
      for (int i = 0; i < 5_000; i++) {
        common.add(RepairSessionTest.rec("k" + i, 10, 0, "v" + i));
      }
      c.putAll(common);
      s.putAll(common);
      List<PropertyRecord> onC = new ArrayList<>();
      List<PropertyRecord> onS = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        onS.add(RepairSessionTest.rec("k" + (i * 97), 12, 0, "server newer"));
        onC.add(RepairSessionTest.rec("k" + (i * 97), 11, 0, "client older"));
        onC.add(RepairSessionTest.rec("k" + (i * 97 + 1), 13, 0, "client newer"));
        onC.add(RepairSessionTest.rec("only-c" + i, 1, 0, "c"));
        onS.add(RepairSessionTest.rec("only-s" + i, 1, 0, "s"));
      }
      c.putAll(onC);
      s.putAll(onS);
      c.trees.ensureCurrent(G, 0, Duration.ofSeconds(30));
      s.trees.ensureCurrent(G, 0, Duration.ofSeconds(30));
      try (ServedTree ct = c.trees.acquire(G, 0).orElseThrow(); ServedTree st = s.trees.acquire(G, 0).orElseThrow()) {
        List<int[]> differing = new ArrayList<>();
        for (int i = 0; i < ct.summary().slots().size(); i++) {
          SlotSummary a = ct.summary().slots().get(i);
          SlotSummary b = st.summary().slots().get(i);
          if (a.leafCount() > 0 && b.leafCount() > 0
              && (a.leafCount() != b.leafCount() || !Arrays.equals(a.hash(), b.hash()))) {
            differing.add(new int[] {i, a.leafCount(), b.leafCount()});
          }
        }
        assertThat(differing).isNotEmpty();
        List<String> kept = descend(ct, st, s, differing, Long.MAX_VALUE);
        List<String> reRead = descend(ct, st, s, differing, 0);
        assertThat(reRead).isEqualTo(kept);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
          expected.add("contest " + entity("k" + (i * 97)) + " at 12");
          // Held by both in another version: contested with the server's revision (the session pushes, 13 > 10).
          expected.add("contest " + entity("k" + (i * 97 + 1)) + " at 10");
          expected.add("push " + entity("only-c" + i));
          expected.add("fetch " + entity("only-s" + i));
        }
        assertThat(kept).containsExactlyInAnyOrderElementsOf(expected);
      }
    }
  }

  private static String entity(String id) {
    return new EntityKey(G, "t", id).entity();
  }

  /** What the client's side decides, sorted: "push E", "fetch E", "contest E at REV". */
  private static List<String> descend(ServedTree client, ServedTree server, SyncNode serverNode,
      List<int[]> differing, long kept) throws Exception {
    DescentServer srv = new DescentServer(server, entities -> {
      List<EntityKey> keys = entities.stream().map(EntityKey::parse).toList();
      PropertyRecord[] found = serverNode.store.latestAll(G, 0, keys);
      return Arrays.stream(found).mapToLong(r -> r == null ? 0 : r.modRevision()).toArray();
    }, kept);
    TreeSet<String> out = new TreeSet<>();
    DescentClient walk = new DescentClient(client, new DescentClient.Sink() {
      @Override
      public void push(byte[] entityUtf8) {
        out.add("push " + new String(entityUtf8, StandardCharsets.UTF_8));
      }

      @Override
      public void contest(byte[] entityUtf8, long serverRevision, int number) {
        assertThat(srv.listedEntity(number)).isEqualTo(new String(entityUtf8, StandardCharsets.UTF_8));
        out.add("contest " + new String(entityUtf8, StandardCharsets.UTF_8) + " at " + serverRevision);
      }

      @Override
      public void fetchListed(int number) {
        out.add("fetch " + srv.listedEntity(number));
      }

      @Override
      public DescendReply call(DescendRequest request) {
        try {
          return srv.answer(request, 32);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
    }, kept);
    walk.run(differing);
    return new ArrayList<>(out);
  }
}
