package dev.arbor.liaison;

import dev.arbor.api.banyandb.property.v1.ApplyRequest;
import dev.arbor.api.banyandb.property.v1.ApplyResponse;
import dev.arbor.api.banyandb.property.v1.DeleteRequest;
import dev.arbor.api.banyandb.property.v1.DeleteResponse;
import dev.arbor.api.banyandb.property.v1.PropertyServiceGrpc;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.banyandb.property.v1.QueryResponse;
import io.grpc.stub.StreamObserver;

/** {@code banyandb.property.v1.PropertyService}: Apply, Delete, Query. */
public final class PropertyGrpcService extends PropertyServiceGrpc.PropertyServiceImplBase {
  private final PropertyApplier applier;
  private final PropertyDeleter deleter;
  private final PropertyQuerier querier;

  PropertyGrpcService(PropertyApplier applier, PropertyDeleter deleter, PropertyQuerier querier) {
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
    StatusMapping.unary(observer, () -> deleter.delete(request));
  }

  @Override
  public void query(QueryRequest request, StreamObserver<QueryResponse> observer) {
    StatusMapping.unary(observer, () -> querier.query(request));
  }
}
