package dev.arbor.repair;

import dev.arbor.api.repair.v1.RepairAdminServiceGrpc;
import dev.arbor.api.repair.v1.RepairProgress;
import dev.arbor.api.repair.v1.RoundReport;
import dev.arbor.api.repair.v1.RunRepairRequest;
import dev.arbor.api.repair.v1.TracesRequest;
import dev.arbor.api.repair.v1.TracesResponse;
import dev.arbor.transport.StatusMapping;
import dev.arbor.observability.trace.TraceQuery;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code arbor.repair.v1.RepairAdminService}: runs rounds on request and streams their progress
 * (the ring first, every hop, then the outcome of each round); answers trace queries.
 */
public final class RepairAdminGrpcService extends RepairAdminServiceGrpc.RepairAdminServiceImplBase {
  /** Rounds of one {@code RunRepair --all} call running at once. */
  static final int ROUND_WINDOW = 4;
  private final RepairRounds rounds;
  private final TraceQuery traces;

  public RepairAdminGrpcService(RepairRounds rounds, TraceQuery traces) {
    this.rounds = rounds;
    this.traces = traces;
  }

  @Override
  public void runRepair(RunRepairRequest req, StreamObserver<RepairProgress> out) {
    ServerCallStreamObserver<RepairProgress> call = (ServerCallStreamObserver<RepairProgress>) out;
    try {
      if (req.getTimeoutMs() < 0) {
        throw new dev.arbor.errors.InvalidArgumentException("timeout_ms must be >= 0");
      }
      Duration timeout = req.getTimeoutMs() == 0 ? rounds.defaultTimeout() : Duration.ofMillis(req.getTimeoutMs());
      List<Integer> shards = new ArrayList<>();
      if (req.getAllShards()) {
        int n = rounds.shardCount(req.getGroup());
        for (int s = 0; s < n; s++) {
          shards.add(s);
        }
      } else {
        shards.add(req.getShard());
      }
      // Up to ROUND_WINDOW rounds run at once (each node handles rounds of different shards in
      // parallel, --repair-workers); the next starts when one ends, so a round's deadline is not
      // spent waiting behind the others. Progress of all of them is streamed as it comes.
      java.util.ArrayDeque<Integer> waiting = new java.util.ArrayDeque<>(shards);
      List<RepairRounds.Round> open = new ArrayList<>();
      while (!waiting.isEmpty() && open.size() < ROUND_WINDOW) {
        open.add(start(req, waiting.poll(), timeout, out));
      }
      while (!open.isEmpty()) {
        if (call.isCancelled()) {
          return; // the caller went away; the rounds go on and their outcomes are still logged
        }
        boolean any = false;
        int ended = 0;
        for (var it = open.iterator(); it.hasNext(); ) {
          RepairRounds.Round r = it.next();
          RoundReport e;
          while ((e = r.next(Duration.ZERO)) != null) {
            any = true;
            RepairProgress.Builder p = RepairProgress.newBuilder().setRoundId(r.id()).setGroup(r.group())
                .setShard(r.shard());
            if (e.hasHop()) {
              p.setHop(e.getHop());
            }
            if (e.hasOutcome()) {
              p.setOutcome(e.getOutcome());
            }
            out.onNext(p.build());
            if (e.hasOutcome()) {
              it.remove();
              ended++;
              break;
            }
          }
        }
        for (; ended > 0 && !waiting.isEmpty(); ended--) {
          open.add(start(req, waiting.poll(), timeout, out));
        }
        if (!any && !open.isEmpty()) {
          open.get(0).await(Duration.ofMillis(50));
        }
      }
      out.onCompleted();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      out.onError(io.grpc.Status.CANCELLED.withDescription("server shutting down").asRuntimeException());
    } catch (RuntimeException e) {
      out.onError(StatusMapping.toStatus(e).asRuntimeException());
    }
  }

  private RepairRounds.Round start(RunRepairRequest req, int shard, Duration timeout,
      StreamObserver<RepairProgress> out) {
    RepairRounds.Round r = rounds.start(req.getGroup(), shard, timeout, "manual");
    out.onNext(RepairProgress.newBuilder().setRoundId(r.id()).setGroup(r.group()).setShard(r.shard())
        .addAllNodes(r.nodes()).build());
    return r;
  }

  @Override
  public void traces(TracesRequest req, StreamObserver<TracesResponse> out) {
    StatusMapping.unary(out, () -> traces.query(req));
  }
}
