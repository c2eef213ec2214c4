package dev.arbor.liaison;

import dev.arbor.transport.StatusMapping;
import dev.arbor.api.banyandb.property.v1.ApplyRequest;
import dev.arbor.api.banyandb.property.v1.ApplyResponse;
import dev.arbor.api.banyandb.property.v1.DeleteRequest;
import dev.arbor.api.banyandb.property.v1.DeleteResponse;
import dev.arbor.api.banyandb.property.v1.PropertyServiceGrpc;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.banyandb.property.v1.QueryResponse;
import io.grpc.stub.StreamObserver;
import java.util.function.Function;

/** {@code banyandb.property.v1.PropertyService}: Apply, Delete, Query. */
public final class PropertyGrpcService extends PropertyServiceGrpc.PropertyServiceImplBase {
  private final Function<ApplyRequest, ApplyResponse> applier;
  private final Function<DeleteRequest, DeleteResponse> deleter;
  private final Function<QueryRequest, QueryResponse> querier;

  /** The operations behind the service: local (standalone) or replicated (liaison). */
  PropertyGrpcService(
      Function<ApplyRequest, ApplyResponse> applier,
      Function<DeleteRequest, DeleteResponse> deleter,
      Function<QueryRequest, QueryResponse> querier) {
    this.applier = applier;
    this.deleter = deleter;
    this.querier = querier;
  }

  @Override
  public void apply(ApplyRequest request, StreamObserver<ApplyResponse> observer) {
    StatusMapping.unary(observer, () -> applier.apply(request));
  }

  @Override
  public void delete(DeleteRequest request, StreamObserver<DeleteResponse> observer) {
    StatusMapping.unary(observer, () -> deleter.apply(request));
  }

  @Override
  public void query(QueryRequest request, StreamObserver<QueryResponse> observer) {
    StatusMapping.unary(observer, () -> querier.apply(request));
  }
}
