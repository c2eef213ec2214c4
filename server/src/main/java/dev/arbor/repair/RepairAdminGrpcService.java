package dev.arbor.repair;

import dev.arbor.api.repair.v1.RepairAdminServiceGrpc;
import dev.arbor.api.repair.v1.RepairProgress;
import dev.arbor.api.repair.v1.RoundReport;
import dev.arbor.api.repair.v1.RunRepairRequest;
import dev.arbor.api.repair.v1.TracesRequest;
import dev.arbor.api.repair.v1.TracesResponse;
import dev.arbor.liaison.StatusMapping;
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
      // Every round starts at once; each node works on rounds of different shards in parallel
      // (--repair-workers), and the progress of all of them is streamed as it comes.
      List<RepairRounds.Round> open = new ArrayList<>();
      for (int shard : shards) {
        RepairRounds.Round r = rounds.start(req.getGroup(), shard, timeout, "manual");
        out.onNext(RepairProgress.newBuilder().setRoundId(r.id()).setGroup(r.group()).setShard(r.shard())
            .addAllNodes(r.nodes()).build());
        open.add(r);
      }
      while (!open.isEmpty()) {
        if (call.isCancelled()) {
          return; // the caller went away; the rounds go on and their outcomes are still logged
        }
        boolean any = false;
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
              break;
            }
          }
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

  @Override
  public void traces(TracesRequest req, StreamObserver<TracesResponse> out) {
    StatusMapping.unary(out, () -> traces.query(req));
  }
}
