package dev.arbor.repair;

import dev.arbor.api.repair.v1.RepairAdminServiceGrpc;
import dev.arbor.api.repair.v1.RepairProgress;
import dev.arbor.api.repair.v1.RunRepairRequest;
import dev.arbor.api.repair.v1.TracesRequest;
import dev.arbor.api.repair.v1.TracesResponse;
import dev.arbor.transport.StatusMapping;
import dev.arbor.observability.trace.TraceQuery;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

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
      RepairRun.run(rounds, req, out::onNext, call::isCancelled);
      if (!call.isCancelled()) {
        out.onCompleted();
      }
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
