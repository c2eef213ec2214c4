package dev.arbor.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.repair.v1.Finish;
import dev.arbor.api.repair.v1.LeafRequest;
import dev.arbor.api.repair.v1.RootCompare;
import dev.arbor.api.repair.v1.SessionRequest;
import dev.arbor.api.repair.v1.SessionResponse;
import dev.arbor.api.repair.v1.SlotHash;
import dev.arbor.api.repair.v1.TreeRoot;
import com.google.protobuf.ByteString;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.observability.trace.Tracer;
import dev.arbor.property.PropertyRecord;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutated two-node repair sessions ({@code RepairService/Repair}) against a real data node over
 * loopback gRPC ({@link RepairFuzzNode}): every session ends with a clear status and well-formed
 * answers ({@link SessionOracle}); afterwards the reference data is exactly as acknowledged, every
 * stored record is valid and within the clock bound, no metric series names a group or shard that
 * does not exist, and every session slot came back (also from clients that stopped reading).
 */
class RepairSessionFuzzTest {
  private static final String TARGET = "repair-session";
  private static final int CI_INPUTS = 10_000;
  /** Sessions claiming another incarnation each wait 2 s for metadata (as in production): a few per run, in parallel. */
  private static final int OTHER_INCARNATION_BUDGET = 12;
  private static final int MAX_ABANDONED = 3;

  @TempDir Path tmp;
  private Scratch scratch;

  @BeforeEach
  void scratch() throws IOException {
    scratch = Scratch.in(tmp);
  }

  @AfterEach
  void cleanUp() throws IOException {
    scratch.close();
  }

  /** A session started but awaited later (slow on purpose, or abandoned by its client). */
  private record Pending(SessionCall call, List<SessionRequest> script, String input) {}

  @Test
  void mutatedSessionsEndCleanlyAndLoseNothing() throws Exception {
    int planned = Fuzz.iterations(CI_INPUTS);
    Mutator m = new Mutator(Fuzz.random(TARGET));
    Fuzz.Run run = new Fuzz.Run(TARGET);
    try (RepairFuzzNode node = new RepairFuzzNode(scratch.dir())) {
      Reference reference = Reference.write(node, Tracer.nowNanos() - 3_600_000_000_000L);
      SessionScripts scripts = new SessionScripts(m, reference, node.incarnation());
      SessionOracle oracle = new SessionOracle(node.incarnation());
      Map<String, Integer> codes = new TreeMap<>();
      List<Pending> slow = new ArrayList<>();
      Deque<Pending> abandoned = new ArrayDeque<>();
      long t0 = System.nanoTime();
      int otherIncarnation = 0;
      long dropped = 0;
      long lastAbandon = 0;
      for (int i = 0; i < planned; i++) {
        SessionScripts.Input in = scripts.next();
        dropped += in.dropped();
        List<SessionRequest> script = in.script();
        String label = "input #" + i + " (" + in.end() + "): " + Fuzz.abbreviate(script);
        boolean slowClaim = scripts.claimsOtherIncarnation(script);
        if (slowClaim && otherIncarnation < OTHER_INCARNATION_BUDGET && in.end() == SessionCall.End.HALF_CLOSE) {
          otherIncarnation++;
          slow.add(new Pending(SessionCall.start(node.channel(), script, in.end()), script, label));
          run.tried();
          continue;
        }
        if (slowClaim) {
          script = scripts.ownIncarnation(script);
        }
        if (in.end() == SessionCall.End.ABANDON) {
          if (abandoned.size() >= MAX_ABANDONED) {
            abandoned.removeFirst().call().cancel();
          }
          abandoned.add(new Pending(SessionCall.start(node.channel(), script, in.end()), script, label));
          lastAbandon = System.nanoTime();
          run.tried();
          continue;
        }
        SessionCall.Result r = await(SessionCall.start(node.channel(), script, in.end()), label);
        codes.merge(in.end() + ":" + r.status().getCode(), 1, Integer::sum);
        if (in.end() == SessionCall.End.HALF_CLOSE) {
          oracle.check(script, r, label);
        }
        run.tried();
        if (i % 2_000 == 1_999) {
          reference.assertIntact(node, "after " + (i + 1) + " inputs");
        }
      }
      for (Pending p : slow) {
        SessionCall.Result r = await(p.call(), p.input());
        codes.merge("other-incarnation:" + r.status().getCode(), 1, Integer::sum);
        oracle.check(p.script(), r, p.input());
        if (!r.responses().isEmpty() && r.responses().get(0).getRootCompare().getTreeFound()) {
          throw new AssertionError("a session claiming another incarnation opened a tree: " + p.input());
        }
      }
      System.out.printf("[fuzz] %s statuses %s; other-incarnation claims %d; pushes kept out as rightful "
          + "overwrites of reference data %d; inputs sent in %d ms%n", TARGET, codes, otherIncarnation, dropped,
          (System.nanoTime() - t0) / 1_000_000);
      reference.assertIntact(node, "after the campaign");
      assertStoredRecordsValid(node);
      assertThat(MetricLabels.strayRepairSeries(node.metrics(), Set.of(RepairFuzzNode.G), RepairFuzzNode.SHARDS))
          .as("repair metric series for groups or shards that do not exist").isEmpty();
      // Sessions whose clients stopped reading end by the idle timeout; then every slot is free again.
      long idleLeft = lastAbandon + RepairFuzzNode.IDLE_TIMEOUT.toNanos() + 1_000_000_000L - System.nanoTime();
      if (idleLeft > 0) {
        TimeUnit.NANOSECONDS.sleep(idleLeft);
      }
      assertAllSlotsFree(node);
      abandoned.forEach(p -> p.call().cancel());
      run.finish(planned);
    }
  }

  private static SessionCall.Result await(SessionCall c, String input) throws Exception {
    try {
      return c.result().get(Deadlines.SECONDS + 5, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("hang: no end of the session within " + (Deadlines.SECONDS + 5) + " s: " + input);
    }
  }

  /** Reads every record of every shard through a clean session: all valid, of their shard, within the clock bound. */
  private static void assertStoredRecordsValid(RepairFuzzNode node) throws Exception {
    long bound = Tracer.nowNanos() + RepairFuzzNode.MAX_CLOCK_SKEW.toNanos();
    for (int shard = 0; shard < RepairFuzzNode.SHARDS; shard++) {
      List<SessionRequest> open = List.of(root(node, shard));
      SessionCall.Result first = await(SessionCall.start(node.channel(), open, SessionCall.End.HALF_CLOSE), "open");
      RootCompare c = first.responses().get(0).getRootCompare();
      assertThat(c.getTreeFound()).isTrue();
      List<SessionRequest> pages = new ArrayList<>(List.of(root(node, shard)));
      long leaves = 0;
      for (SlotHash s : c.getSlotsList()) {
        leaves += s.getLeafCount();
        if (s.getLeafCount() > 0) {
          pages.add(SessionRequest.newBuilder().setLeaves(LeafRequest.newBuilder().setSlot(s.getIndex())
              .setMaxItems(4096).setRecords(true)).build());
        }
      }
      pages.add(SessionRequest.newBuilder().setFinish(Finish.getDefaultInstance()).build());
      SessionCall.Result all = await(SessionCall.start(node.channel(), pages, SessionCall.End.HALF_CLOSE), "pages");
      assertThat(all.status().getCode()).isEqualTo(Status.Code.OK);
      long records = 0;
      for (SessionResponse r : all.responses()) {
        assertThat(r.getLeaves().getMore()).as("small shards fit one page per slot").isFalse();
        for (StoredProperty p : r.getLeaves().getRecordsList()) {
          SessionOracle.served(p, RepairFuzzNode.G, shard, "stored record " + Fuzz.abbreviate(p));
          PropertyRecord rec = StoredProperties.fromProto(p, "stored").record();
          assertThat(rec.modRevision()).as("revision of %s", p.getEntity()).isLessThanOrEqualTo(bound);
          assertThat(rec.deleteTime()).as("delete time of %s", p.getEntity()).isLessThanOrEqualTo(bound);
          records++;
        }
      }
      assertThat(records).as("records of shard %d against its tree's leaves", shard).isEqualTo(leaves);
    }
  }

  /** {@link RepairFuzzNode#MAX_SESSIONS} sessions at once all open: none was leaked by the campaign. */
  private static void assertAllSlotsFree(RepairFuzzNode node) throws Exception {
    List<SessionCall> held = new ArrayList<>();
    for (int k = 0; k < RepairFuzzNode.MAX_SESSIONS; k++) {
      held.add(SessionCall.start(node.channel(), List.of(root(node, k % RepairFuzzNode.SHARDS)),
          SessionCall.End.ABANDON));
    }
    // Abandoned clients do not read: a slot shows as an open stream, a refusal as RESOURCE_EXHAUSTED
    // (which the client sees even unread, as the status ends the stream).
    TimeUnit.MILLISECONDS.sleep(500);
    for (SessionCall c : held) {
      assertThat(c.result().isDone()).as("a session was refused: a slot leaked (%s)",
          c.result().isDone() ? c.result().get().status() : "").isFalse();
    }
    held.forEach(SessionCall::cancel);
  }

  private static SessionRequest root(RepairFuzzNode node, int shard) {
    return SessionRequest.newBuilder().setTreeRoot(TreeRoot.newBuilder().setGroup(RepairFuzzNode.G).setShard(shard)
        .setSlotCount(SessionScripts.SLOTS).setClientNode("check").setTreeFormat(dev.arbor.repair.tree.TreeFileReader.CURRENT_FORMAT)
        .setGroupIncarnation(ByteString.copyFrom(node.incarnation().toBytes()))).build();
  }
}
