package dev.arbor.liaison;

import dev.arbor.transport.StatusMapping;
import dev.arbor.api.banyandb.common.v1.APIVersion;
import dev.arbor.api.banyandb.common.v1.GetAPIVersionRequest;
import dev.arbor.api.banyandb.common.v1.GetAPIVersionResponse;
import dev.arbor.api.banyandb.common.v1.ServiceGrpc;
import io.grpc.stub.StreamObserver;

/** {@code banyandb.common.v1.Service/GetAPIVersion}: the BanyanDB API version Arbor speaks. */
public final class ApiVersionGrpcService extends ServiceGrpc.ServiceImplBase {
  private final String version;
  private final String revision;

  public ApiVersionGrpcService(String version, String revision) {
    this.version = version;
    this.revision = revision;
  }

  @Override
  public void getAPIVersion(GetAPIVersionRequest req, StreamObserver<GetAPIVersionResponse> obs) {
    StatusMapping.unary(obs, () -> GetAPIVersionResponse.newBuilder()
        .setVersion(APIVersion.newBuilder().setVersion(version).setRevision(revision)).build());
  }
}
