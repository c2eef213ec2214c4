package dev.arbor.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.repair.v1.CoverageAck;
import dev.arbor.api.repair.v1.CoverageNotice;
import dev.arbor.api.repair.v1.CoverageServiceGrpc;
import dev.arbor.observability.trace.Tracer;
import dev.arbor.repair.coverage.CoverageWatermark;
import dev.arbor.repair.coverage.WatermarkStore;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutated coverage notices ({@code CoverageService/Covered}) against a real data node over
 * loopback gRPC. A notice is kept exactly when a correct origin could have sent it (this node in
 * the ring, the shard exists, a start time after the kept one and not ahead of this node's clock
 * by more than the skew it tolerates) and is otherwise acknowledged as not kept, with a reason.
 * A watermark from the future would hold back every later round's and let the shard purge by the
 * grace alone: deletes a replica missed could come back. Afterwards only real shards have
 * watermarks, none ahead of the clock; the reference data and metric series are checked too.
 */
class CoverageFuzzTest {
  private static final String TARGET = "coverage";
  private static final int CI_INPUTS = 10_000;
  private static final String[] OTHER_GROUPS = {"nope", "", "FZ", "fz ", "fz\t0", "fz\n"};

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

  @Test
  void onlyNoticesACorrectOriginCouldSendAreKept() throws Exception {
    int planned = Fuzz.iterations(CI_INPUTS);
    Mutator m = new Mutator(Fuzz.random(TARGET));
    ProtoMutator pm = new ProtoMutator(m);
    Fuzz.Run run = new Fuzz.Run(TARGET);
    try (RepairFuzzNode node = new RepairFuzzNode(scratch.dir())) {
      Reference reference = Reference.write(node, Tracer.nowNanos() - 3_600_000_000_000L);
      WatermarkStore marks = node.server().coverageWatermarks();
      var stub = CoverageServiceGrpc.newBlockingStub(node.channel());
      long[] kept = new long[RepairFuzzNode.SHARDS];
      Map<String, Integer> codes = new TreeMap<>();
      for (int i = 0; i < planned; i++) {
        CoverageNotice n = mutate(notice(m, i), m, pm);
        String label = "notice #" + i + ": " + Fuzz.abbreviate(n);
        long now = Tracer.nowNanos();
        CoverageAck ack;
        try {
          ack = stub.covered(n);
        } catch (StatusRuntimeException e) {
          Status s = e.getStatus();
          assertThat(s.getCode()).as("%s (%s) for %s", s.getCode(), s.getDescription(), label)
              .isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(s.getDescription()).as(label).isNotBlank();
          codes.merge(s.getCode().toString(), 1, Integer::sum);
          run.tried();
          continue;
        }
        boolean keepable = keepable(n, now);
        boolean newer = keepable && n.getRoundStartUnixNanos() > kept[n.getShard()];
        codes.merge("recorded=" + ack.getRecorded(), 1, Integer::sum);
        assertThat(ack.getRecorded()).as("kept (a correct origin could send it: %s, newer than the kept one: %s): %s",
            keepable, newer, label).isEqualTo(newer);
        if (!ack.getRecorded()) {
          assertThat(ack.getReason()).as("why not kept: %s", label).isNotBlank();
        } else {
          kept[n.getShard()] = n.getRoundStartUnixNanos();
          Optional<CoverageWatermark> w = marks.get(RepairFuzzNode.G, n.getShard());
          assertThat(w.map(CoverageWatermark::roundStartNanos)).as(label).contains(n.getRoundStartUnixNanos());
        }
        run.tried();
      }
      System.out.printf("[fuzz] %s outcomes %s%n", TARGET, codes);
      long bound = Tracer.nowNanos() + RepairFuzzNode.MAX_CLOCK_SKEW.toNanos();
      for (int s = 0; s < RepairFuzzNode.SHARDS; s++) {
        marks.get(RepairFuzzNode.G, s).ifPresent(w -> assertThat(w.roundStartNanos()).isLessThanOrEqualTo(bound));
      }
      // Only real shards made it to the file, each with the watermark kept in memory.
      WatermarkStore reread = WatermarkStore.open(marks.file());
      for (Map.Entry<String, Integer> k : reread.shards()) {
        assertThat(k.getKey()).as("watermark of %s", Fuzz.abbreviate(k.toString())).isEqualTo(RepairFuzzNode.G);
        assertThat(k.getValue()).isBetween(0, RepairFuzzNode.SHARDS - 1);
        assertThat(reread.get(k.getKey(), k.getValue())).isEqualTo(marks.get(k.getKey(), k.getValue()));
      }
      reference.assertIntact(node, "after the campaign");
      assertThat(MetricLabels.strayRepairSeries(node.metrics(), Set.of(RepairFuzzNode.G), RepairFuzzNode.SHARDS))
          .as("repair metric series for groups or shards that do not exist").isEmpty();
      run.finish(planned);
    }
  }

  /** Whether a correct origin could have sent {@code n} to this node now. */
  private static boolean keepable(CoverageNotice n, long now) {
    return n.getNodesList().contains(RepairFuzzNode.SELF) && n.getGroup().equals(RepairFuzzNode.G)
        && Integer.compareUnsigned(n.getShard(), RepairFuzzNode.SHARDS) < 0 && n.getRoundStartUnixNanos() > 0
        && n.getRoundStartUnixNanos() <= now + RepairFuzzNode.MAX_CLOCK_SKEW.toNanos();
  }

  private static CoverageNotice notice(Mutator m, int i) {
    int shard = m.random().nextInt(RepairFuzzNode.SHARDS);
    // Mostly increasing start times, as rounds come; sometimes an older one arriving late.
    long start = Tracer.nowNanos() - (m.chance(4) ? 3_600_000_000_000L : 0) - m.random().nextInt(1_000_000);
    return CoverageNotice.newBuilder().setGroup(RepairFuzzNode.G).setShard(shard).setRoundStartUnixNanos(start)
        .setRoundId(RepairFuzzNode.PEER + "-" + i).addAllNodes(RepairFuzzNode.ring(shard))
        .setOriginNode(RepairFuzzNode.PEER).build();
  }

  private static CoverageNotice mutate(CoverageNotice n, Mutator m, ProtoMutator pm) {
    long now = Tracer.nowNanos();
    return switch (m.random().nextInt(8)) {
      case 0 -> n.toBuilder().setGroup(m.chance(2) ? m.pick(OTHER_GROUPS) : m.string(RepairFuzzNode.G)).build();
      case 1 -> n.toBuilder().setShard(m.chance(2) ? RepairFuzzNode.SHARDS : m.boundaryInt()).build();
      case 2 -> n.toBuilder().setRoundStartUnixNanos(m.pick(new Long[] {now + 86_400_000_000_000L, Long.MAX_VALUE,
          now + RepairFuzzNode.MAX_CLOCK_SKEW.toNanos() + 10_000_000_000L, 0L, -1L, Long.MIN_VALUE})).build();
      case 3 -> n.toBuilder().clearNodes().addNodes(RepairFuzzNode.PEER).addNodes("n3").build();
      case 4 -> n; // a valid notice: moves the watermark on (or is older than the kept one)
      default -> pm.either(n, null);
    };
  }
}
