package dev.arbor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.banyandb.common.v1.APIVersion;
import dev.arbor.api.banyandb.common.v1.GetAPIVersionRequest;
import dev.arbor.api.banyandb.common.v1.GetAPIVersionResponse;
import dev.arbor.api.banyandb.common.v1.ServiceGrpc;
import dev.arbor.http.ApiClient;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * While a node drains its calls on a graceful close, the HTTP API takes no new request (503
 * UNAVAILABLE as JSON) and the request already running still gets its answer.
 *
 * <p>The in-flight call is a stand-in service whose first GetAPIVersion waits for the test: a
 * call that is still running when the close begins cannot be produced reliably otherwise.
 */
class HttpApiDrainTest {
  /** GetAPIVersion; the first call holds until {@link #release} counts down, later ones answer at once. */
  private static final class HeldVersionService extends ServiceGrpc.ServiceImplBase {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    private final AtomicBoolean first = new AtomicBoolean(true);

    @Override
    public void getAPIVersion(GetAPIVersionRequest req, StreamObserver<GetAPIVersionResponse> obs) {
      if (first.getAndSet(false)) {
        entered.countDown();
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      obs.onNext(GetAPIVersionResponse.newBuilder().setVersion(APIVersion.newBuilder().setVersion("0.9")).build());
      obs.onCompleted();
    }
  }

  @Test
  void newRequestsAreRefusedWhileTheRequestInFlightFinishes() throws Exception {
    HeldVersionService service = new HeldVersionService();
    ServingEndpoints endpoints = ServingEndpoints.start("127.0.0.1", 0, 0, List.of(service),
        ServingEndpoints.newRegistry());
    CompletableFuture<Void> closing = null;
    try {
      endpoints.serveHttpApi();
      endpoints.markServing();
      ApiClient http = new ApiClient("http://127.0.0.1:" + endpoints.httpPort());
      CompletableFuture<ApiClient.Answer> inFlight = CompletableFuture.supplyAsync(() -> {
        try {
          return http.get("/api/v1/common/api/version");
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      assertThat(service.entered.await(20, TimeUnit.SECONDS)).as("the first request reached the service").isTrue();
      assertThat(http.get("/api/v1/common/api/version").status()).as("before the close").isEqualTo(200);

      closing = CompletableFuture.runAsync(endpoints::close);
      ApiClient.Answer refused = await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
          .until(() -> http.get("/api/v1/common/api/version"), a -> a.status() != 200);
      assertThat(refused.status()).as(refused.toString()).isEqualTo(503);
      assertThat(refused.code()).isEqualTo(14);
      assertThat(refused.message()).contains("shutting down");
      assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/json");
      assertThat(closing).as("the drain waits for the request in flight").isNotDone();

      service.release.countDown();
      ApiClient.Answer finished = inFlight.get(20, TimeUnit.SECONDS);
      assertThat(finished.status()).as(finished.toString()).isEqualTo(200);
      assertThat(finished.json().path("version").path("version").asText()).isEqualTo("0.9");
      closing.get(20, TimeUnit.SECONDS);
    } finally {
      service.release.countDown();
      if (closing == null) {
        endpoints.close();
      }
    }
  }
}
