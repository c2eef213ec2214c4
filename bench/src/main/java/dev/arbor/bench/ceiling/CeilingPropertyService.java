package dev.arbor.bench.ceiling;

import dev.arbor.api.banyandb.property.v1.ApplyRequest;
import dev.arbor.api.banyandb.property.v1.ApplyResponse;
import dev.arbor.api.banyandb.property.v1.DeleteRequest;
import dev.arbor.api.banyandb.property.v1.DeleteResponse;
import dev.arbor.api.banyandb.property.v1.PropertyServiceGrpc;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.banyandb.property.v1.QueryResponse;
import dev.arbor.transport.StatusMapping;
import io.grpc.stub.StreamObserver;

/**
 * {@code banyandb.property.v1.PropertyService} that stores nothing: every call is answered at once
 * with a valid response. The request has still been received, parsed and dispatched by gRPC, and
 * the answer goes through the same {@link StatusMapping#unary} wrapper the real service uses, so
 * what a call costs here is the transport alone.
 *
 * <p>Apply answers {@code created = true} with the request's tag count (what the real server
 * answers for a new id). Query answers no properties and Delete {@code deleted = false}: valid
 * answers, but not a query ceiling (a real query's cost depends on what it returns), so the
 * benchmark measures only Apply against this service.
 */
final class CeilingPropertyService extends PropertyServiceGrpc.PropertyServiceImplBase {

  @Override
  public void apply(ApplyRequest request, StreamObserver<ApplyResponse> observer) {
    StatusMapping.unary(observer, () -> ApplyResponse.newBuilder().setCreated(true)
        .setTagsNum(request.getProperty().getTagsCount()).build());
  }

  @Override
  public void query(QueryRequest request, StreamObserver<QueryResponse> observer) {
    StatusMapping.unary(observer, QueryResponse::getDefaultInstance);
  }

  @Override
  public void delete(DeleteRequest request, StreamObserver<DeleteResponse> observer) {
    StatusMapping.unary(observer, DeleteResponse::getDefaultInstance);
  }
}
