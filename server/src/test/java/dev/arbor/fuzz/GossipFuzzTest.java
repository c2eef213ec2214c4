package dev.arbor.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.repair.v1.GossipServiceGrpc;
import dev.arbor.api.repair.v1.HopResult;
import dev.arbor.api.repair.v1.PropagationContext;
import dev.arbor.api.repair.v1.PropagationRequest;
import dev.arbor.api.repair.v1.PropagationResponse;
import dev.arbor.api.repair.v1.RoundOutcome;
import dev.arbor.api.repair.v1.RoundReport;
import dev.arbor.api.repair.v1.TraceContext;
import dev.arbor.observability.trace.Tracer;
import dev.arbor.repair.RepairRounds;
import dev.arbor.repair.gossip.RoundOutcomes;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutated gossip calls ({@code GossipService/Propagate} and {@code Report}) against a real data
 * node over loopback gRPC, its real queue and workers handling what it accepts (its peer, a
 * {@link StubPeer}, serves no sessions, so every round it takes ends FAILED and is reported).
 * Every call ends with OK or a refusal that says why; a round for a group or shard that does not
 * exist is refused before the queue, a metric or a report; every round taken from the peer is
 * reported back exactly once; reports change only the rounds they name; the reference data is
 * untouched and the metric series name only real groups, shards, statuses and nodes.
 */
class GossipFuzzTest {
  private static final int CI_INPUTS = 10_000;
  private static final Set<Status.Code> ALLOWED = EnumSet.of(Status.Code.OK, Status.Code.INVALID_ARGUMENT,
      Status.Code.FAILED_PRECONDITION, Status.Code.NOT_FOUND, Status.Code.OUT_OF_RANGE);
  private static final Set<String> STATUSES = Set.of(RoundOutcomes.COMPLETED, RoundOutcomes.FAILED,
      RoundOutcomes.SKIPPED, RoundOutcomes.SUPERSEDED, RoundOutcomes.ABORTED);
  private static final String[] OTHER_GROUPS = {"nope", "", "FZ", "fz ", "fz_0", "fz\0"};

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
  void mutatedPropagationsAreRefusedOrHandledAndReported() throws Exception {
    String target = "gossip-propagate";
    int planned = Fuzz.iterations(CI_INPUTS);
    Mutator m = new Mutator(Fuzz.random(target));
    ProtoMutator pm = new ProtoMutator(m);
    Fuzz.Run run = new Fuzz.Run(target);
    try (RepairFuzzNode node = new RepairFuzzNode(scratch.dir())) {
      Reference reference = Reference.write(node, Tracer.nowNanos() - 3_600_000_000_000L);
      var stub = GossipServiceGrpc.newBlockingStub(node.channel());
      Map<String, Integer> codes = new TreeMap<>();
      Map<String, Integer> takenFromPeer = new HashMap<>();
      for (int i = 0; i < planned; i++) {
        PropagationRequest req = pm.either(propagation(m, i), null);
        if (m.chance(6)) {
          req = retarget(req, m);
        }
        PropagationRequest sent = req;
        String label = "propagate #" + i + ": " + Fuzz.abbreviate(sent);
        Outcome<PropagationResponse> o = call(() -> stub.propagate(sent));
        codes.merge(o.status().getCode() + (o.value() == null ? "" : ":accepted=" + o.value().getAccepted()), 1,
            Integer::sum);
        check(o.status(), label);
        boolean exists = sent.getGroup().equals(RepairFuzzNode.G)
            && Integer.compareUnsigned(sent.getShard(), RepairFuzzNode.SHARDS) < 0;
        if (!exists) {
          assertThat(o.status().isOk()).as("a round of a shard that does not exist is refused: %s", label)
              .isFalse();
        }
        if (o.value() != null && !o.value().getAccepted()) {
          assertThat(o.value().getReason()).as(label).isNotBlank();
        }
        if (o.value() != null && o.value().getAccepted()
            && sent.getContext().getOriginNode().equals(RepairFuzzNode.PEER)) {
          // As the node read it: a lone surrogate goes over the wire as '?'.
          String id = com.google.protobuf.ByteString.copyFromUtf8(sent.getContext().getRoundId()).toStringUtf8();
          takenFromPeer.merge(id, 1, Integer::sum);
        }
        run.tried();
      }
      System.out.printf("[fuzz] %s statuses %s; rounds taken from the peer %d%n", target, codes,
          takenFromPeer.values().stream().mapToInt(Integer::intValue).sum());
      // Every round taken from the peer ends with exactly one outcome reported to it (its own, or
      // SUPERSEDED when a newer one from the peer replaced it while waiting): none is dropped.
      org.awaitility.Awaitility.await("every round taken from the peer reported exactly once")
          .atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
          .untilAsserted(() -> assertThat(outcomesByRound(node))
              .as("outcomes reported per round taken from the peer").isEqualTo(takenFromPeer));
      for (RoundReport r : node.peer().reports()) {
        assertThat(r.getGroup()).as("a report of a round the node took").isEqualTo(RepairFuzzNode.G);
        assertThat(Integer.compareUnsigned(r.getShard(), RepairFuzzNode.SHARDS)).isNegative();
      }
      reference.assertIntact(node, "after the campaign");
      String metrics = node.metrics();
      assertThat(MetricLabels.strayRepairSeries(metrics, Set.of(RepairFuzzNode.G), RepairFuzzNode.SHARDS))
          .as("repair metric series for groups or shards that do not exist").isEmpty();
      assertThat(MetricLabels.offending(metrics, "arbor_repair", "origin", o -> o.equals(RepairFuzzNode.SELF)
          || o.equals(RepairFuzzNode.PEER) || o.equals("unregistered")))
          .as("series per made-up origin node").isEmpty();
      run.finish(planned);
    }
  }

  @Test
  void mutatedReportsEndOnlyTheRoundsTheyName() throws Exception {
    String target = "gossip-report";
    int planned = Fuzz.iterations(CI_INPUTS);
    Mutator m = new Mutator(Fuzz.random(target));
    ProtoMutator pm = new ProtoMutator(m);
    Fuzz.Run run = new Fuzz.Run(target);
    try (RepairFuzzNode node = new RepairFuzzNode(scratch.dir())) {
      Reference reference = Reference.write(node, Tracer.nowNanos() - 3_600_000_000_000L);
      // Rounds this node starts on shards whose ring the peer heads: the peer takes them and never
      // reports, so they stay open for the fuzzed reports.
      List<Integer> peerFirst = new ArrayList<>();
      for (int s = 0; s < RepairFuzzNode.SHARDS; s++) {
        if (RepairFuzzNode.ring(s).get(0).equals(RepairFuzzNode.PEER)) {
          peerFirst.add(s);
        }
      }
      assertThat(peerFirst).as("shards whose ring the peer heads").isNotEmpty();
      RepairRounds rounds = node.server().repairRounds();
      List<RepairRounds.Round> live = new ArrayList<>();
      var stub = GossipServiceGrpc.newBlockingStub(node.channel());
      Map<String, Integer> codes = new TreeMap<>();
      int ended = 0;
      for (int i = 0; i < planned; i++) {
        while (live.size() < 4) {
          live.add(rounds.start(RepairFuzzNode.G, peerFirst.get(m.random().nextInt(peerFirst.size())),
              Duration.ofMinutes(5), "manual"));
        }
        RepairRounds.Round aimed = live.get(m.random().nextInt(live.size()));
        RoundReport req = pm.either(report(m, aimed), null);
        String label = "report #" + i + ": " + Fuzz.abbreviate(req);
        Outcome<Object> o = call(() -> stub.report(req));
        codes.merge(o.status().getCode().toString(), 1, Integer::sum);
        check(o.status(), label);
        for (RepairRounds.Round r : List.copyOf(live)) {
          boolean named = o.status().isOk() && req.getRoundId().equals(r.id()) && req.hasOutcome();
          assertThat(r.outcome().isDone()).as("round %s ended exactly when a report named it with an outcome: %s",
              r.id(), label).isEqualTo(named);
          if (named) {
            live.remove(r);
            ended++;
          }
        }
        run.tried();
      }
      System.out.printf("[fuzz] %s statuses %s; rounds ended by a report %d%n", target, codes, ended);
      reference.assertIntact(node, "after the campaign");
      String metrics = node.metrics();
      assertThat(MetricLabels.strayRepairSeries(metrics, Set.of(RepairFuzzNode.G), RepairFuzzNode.SHARDS))
          .as("repair metric series for groups or shards that do not exist").isEmpty();
      assertThat(MetricLabels.offending(metrics, "arbor_repair", "status", STATUSES::contains))
          .as("series per made-up round status").isEmpty();
      run.finish(planned);
    }
  }

  private static PropagationRequest propagation(Mutator m, int i) {
    int shard = m.random().nextInt(RepairFuzzNode.SHARDS);
    String origin = m.pick(new String[] {RepairFuzzNode.PEER, RepairFuzzNode.PEER, RepairFuzzNode.SELF, "n9"});
    return PropagationRequest.newBuilder()
        .setContext(PropagationContext.newBuilder().addAllNodes(RepairFuzzNode.ring(shard)).setMaxPropagationCount(1)
            .setCurrentPropagationCount(0).setOriginNode(origin).setRoundId(origin + "-" + i)
            .setDeadlineUnixMs(System.currentTimeMillis() + (m.chance(10) ? -1 : 60_000)))
        .setTrace(TraceContext.newBuilder().setTraceId("t" + i).setParentSpanId("p"))
        .setGroup(RepairFuzzNode.G).setShard(shard).build();
  }

  private static PropagationRequest retarget(PropagationRequest r, Mutator m) {
    return switch (m.random().nextInt(3)) {
      case 0 -> r.toBuilder().setGroup(m.pick(OTHER_GROUPS)).build();
      case 1 -> r.toBuilder().setGroup(m.string(RepairFuzzNode.G)).build();
      default -> r.toBuilder().setShard(m.chance(2) ? RepairFuzzNode.SHARDS : m.boundaryInt()).build();
    };
  }

  private static RoundReport report(Mutator m, RepairRounds.Round round) {
    RoundReport.Builder b = RoundReport.newBuilder()
        .setRoundId(m.chance(5) ? "n1-" + m.boundaryLong() : round.id())
        .setGroup(round.group()).setShard(round.shard())
        .setHop(HopResult.newBuilder().setClientNode(RepairFuzzNode.PEER).setServerNode(RepairFuzzNode.SELF)
            .setSuccess(true).setSlotsDiffering(2).setLeavesCompared(10).setRepairedToServer(1).setDurationMs(3.5));
    if (m.chance(4)) {
      b.setOutcome(RoundOutcome.newBuilder().setStatus(m.pick(STATUSES.toArray(String[]::new)))
          .setMessage("fuzz").setPropagationCount(1).setMaxPropagationCount(1).setEndedOnNode(RepairFuzzNode.PEER));
    }
    return b.build();
  }

  /** Outcome reports the peer received, counted per round id. */
  private static Map<String, Integer> outcomesByRound(RepairFuzzNode node) {
    Map<String, Integer> out = new HashMap<>();
    for (RoundReport r : node.peer().reports()) {
      if (r.hasOutcome()) {
        out.merge(r.getRoundId(), 1, Integer::sum);
      }
    }
    return out;
  }

  private static void check(Status s, String label) {
    assertThat(s.getCode()).as("%s (%s) for %s", s.getCode(), s.getDescription(), label).isIn(ALLOWED);
    if (!s.isOk()) {
      assertThat(s.getDescription()).as("a refusal says why: %s", label).isNotBlank();
    }
  }

  private record Outcome<T>(Status status, T value) {}

  private static <T> Outcome<T> call(Supplier<T> c) {
    try {
      return new Outcome<>(Status.OK, c.get());
    } catch (StatusRuntimeException e) {
      return new Outcome<>(e.getStatus(), null);
    }
  }
}
