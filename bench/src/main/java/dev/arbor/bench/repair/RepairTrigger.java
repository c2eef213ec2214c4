package dev.arbor.bench.repair;

import dev.arbor.api.repair.v1.HopResult;
import dev.arbor.api.repair.v1.RepairAdminServiceGrpc;
import dev.arbor.api.repair.v1.RepairProgress;
import dev.arbor.api.repair.v1.RoundOutcome;
import dev.arbor.api.repair.v1.RunRepairRequest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts a repair round on one data node ({@code RepairAdminService.RunRepair}, the CLI's
 * {@code arbor repair run --target NODE --group G}) and follows its progress stream to the end:
 * every hop's figures and every round's outcome. Wall time runs from sending the request to
 * receiving the last outcome.
 */
final class RepairTrigger {

  /** One RunRepair call. */
  record Run(String node, long wallNanos, List<HopResult> hops, List<RoundOutcome> outcomes,
      List<String> ring, String error) {
    boolean completed() {
      return error == null && !outcomes.isEmpty()
          && outcomes.stream().allMatch(o -> o.getStatus().equals("COMPLETED"));
    }
  }

  /** One span of a round's trace, offsets relative to the earliest span of the trace. */
  record SpanLine(String node, String message, double startOffsetMs, double durationMs,
      boolean error, String errorReason, java.util.Map<String, String> tags) {}

  private RepairTrigger() {}

  /**
   * The repair spans of {@code group} from every data node ({@code Traces}, cluster-wide), in start
   * order; empty when the node does not serve traces.
   */
  static List<SpanLine> traces(ManagedChannel nodeChannel, String group, long sinceUnixMs) {
    try {
      List<dev.arbor.api.repair.v1.Span> spans = new ArrayList<>(RepairAdminServiceGrpc
          .newBlockingStub(nodeChannel).withDeadlineAfter(30, TimeUnit.SECONDS)
          .traces(dev.arbor.api.repair.v1.TracesRequest.newBuilder().setGroup(group)
              .setSinceUnixMs(sinceUnixMs).setClusterWide(true).setLimit(1000).build())
          .getSpansList());
      spans.sort(java.util.Comparator.comparingLong(dev.arbor.api.repair.v1.Span::getStartUnixNanos));
      long t0 = spans.isEmpty() ? 0 : spans.get(0).getStartUnixNanos();
      List<SpanLine> out = new ArrayList<>();
      for (dev.arbor.api.repair.v1.Span s : spans) {
        out.add(new SpanLine(s.getNodeId(), s.getMessage(), (s.getStartUnixNanos() - t0) / 1e6,
            s.getEndUnixNanos() == 0 ? -1 : (s.getEndUnixNanos() - s.getStartUnixNanos()) / 1e6,
            s.getError(), s.getErrorReason(), new java.util.TreeMap<>(s.getTagsMap())));
      }
      return out;
    } catch (StatusRuntimeException e) {
      return List.of();
    }
  }

  static Run run(ManagedChannel nodeChannel, String node, String group, long timeoutMillis) {
    List<HopResult> hops = new ArrayList<>();
    List<RoundOutcome> outcomes = new ArrayList<>();
    List<String> ring = new ArrayList<>();
    String error = null;
    long t0 = System.nanoTime();
    long tEnd = -1;
    try {
      Iterator<RepairProgress> it = RepairAdminServiceGrpc.newBlockingStub(nodeChannel)
          .withDeadlineAfter(timeoutMillis + 30_000, TimeUnit.MILLISECONDS)
          .runRepair(RunRepairRequest.newBuilder().setGroup(group).setShard(0).setAllShards(true)
              .setTimeoutMs(timeoutMillis).build());
      while (it.hasNext()) {
        RepairProgress p = it.next();
        if (ring.isEmpty() && p.getNodesCount() > 0) {
          ring.addAll(p.getNodesList());
        }
        if (p.hasHop()) {
          hops.add(p.getHop());
        }
        if (p.hasOutcome()) {
          outcomes.add(p.getOutcome());
          tEnd = System.nanoTime();
        }
      }
    } catch (StatusRuntimeException e) {
      error = e.getStatus().getCode() + ": " + e.getStatus().getDescription();
    }
    long end = tEnd > 0 ? tEnd : System.nanoTime();
    if (error == null && outcomes.isEmpty()) {
      error = "the progress stream ended without an outcome";
    }
    return new Run(node, end - t0, hops, outcomes, ring, error);
  }
}
