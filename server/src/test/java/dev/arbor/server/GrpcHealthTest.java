package dev.arbor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.http.ApiClient;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.MessageLimits;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The standard gRPC health service and {@code /api/healthz} of a node's endpoints follow its
 * readiness: NOT_SERVING while starting or while a check reports a problem, SERVING otherwise.
 */
class GrpcHealthTest {
  private static ServingStatus check(ManagedChannel ch) {
    return HealthGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance()).getStatus();
  }

  @Test
  void followsServingAndProblems() throws Exception {
    AtomicReference<List<String>> storage = new AtomicReference<>(List.of());
    try (ServingEndpoints endpoints = ServingEndpoints.start("127.0.0.1", 0, 0, List.of(),
        ServingEndpoints.newRegistry())) {
      endpoints.healthProblems(storage::get);
      ManagedChannel ch = ChannelFactory.plaintext()
          .open("127.0.0.1:" + endpoints.grpcPort(), MessageLimits.MAX_MESSAGE_BYTES);
      ApiClient http = new ApiClient("http://127.0.0.1:" + endpoints.httpPort());
      try {
        assertThat(check(ch)).as("before markServing").isEqualTo(ServingStatus.NOT_SERVING);
        ApiClient.Answer starting = http.get("/api/healthz");
        assertThat(starting.status()).isEqualTo(503);
        assertThat(starting.json().path("status").asText()).isEqualTo("NOT_SERVING");
        assertThat(starting.json().path("reasons").toString()).contains("starting");

        List<ServingStatus> watched = new CopyOnWriteArrayList<>();
        HealthGrpc.newStub(ch).watch(HealthCheckRequest.getDefaultInstance(), new StreamObserver<>() {
          @Override
          public void onNext(HealthCheckResponse r) {
            watched.add(r.getStatus());
          }

          @Override
          public void onError(Throwable t) {
          }

          @Override
          public void onCompleted() {
          }
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> watched.contains(ServingStatus.NOT_SERVING));

        endpoints.markServing();
        assertThat(check(ch)).isEqualTo(ServingStatus.SERVING);
        assertThat(http.get("/api/healthz").json().path("status").asText()).isEqualTo("SERVING");
        await().atMost(Duration.ofSeconds(10)).until(() -> watched.contains(ServingStatus.SERVING));

        watched.clear();
        storage.set(List.of("shard g/0 stopped after a fatal index error"));
        // A Watch stream learns of the change without anyone calling Check.
        await().atMost(Duration.ofSeconds(10)).until(() -> watched.contains(ServingStatus.NOT_SERVING));
        assertThat(check(ch)).as("a storage problem").isEqualTo(ServingStatus.NOT_SERVING);
        ApiClient.Answer failing = http.get("/api/healthz");
        assertThat(failing.status()).isEqualTo(503);
        assertThat(failing.json().path("reasons").get(0).asText()).contains("shard g/0");

        storage.set(List.of());
        assertThat(check(ch)).isEqualTo(ServingStatus.SERVING);
        assertThat(http.send("POST", "/api/healthz", "{}").status()).isEqualTo(405);
      } finally {
        ch.shutdownNow();
      }
    }
  }
}
