package dev.arbor.observability.trace;

import dev.arbor.api.repair.v1.RepairAdminServiceGrpc;
import dev.arbor.api.repair.v1.TracesRequest;
import dev.arbor.api.repair.v1.TracesResponse;
import dev.arbor.liaison.StatusMapping;
import io.grpc.stub.StreamObserver;

/** Test stand-in for the repair admin service: serves only {@code Traces}, as production will. */
public final class TracesOnlyAdminService extends RepairAdminServiceGrpc.RepairAdminServiceImplBase {
  private final TraceQuery query;

  public TracesOnlyAdminService(TraceQuery query) {
    this.query = query;
  }

  @Override
  public void traces(TracesRequest request, StreamObserver<TracesResponse> observer) {
    StatusMapping.unary(observer, () -> query.query(request));
  }
}
