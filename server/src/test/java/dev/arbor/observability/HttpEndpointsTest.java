package dev.arbor.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The HTTP port over real loopback sockets: slow JSON routes never hold up a liveness probe. */
class HttpEndpointsTest {
  private final CountDownLatch release = new CountDownLatch(1);
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private HttpEndpoints endpoints;

  @BeforeEach
  void start() throws Exception {
    endpoints = new HttpEndpoints("127.0.0.1", 0, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), () -> true);
    endpoints.addJsonRoute("/slow", params -> {
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return "{}";
    });
    endpoints.addJsonRoute("/broken", params -> {
      throw new IllegalStateException("cannot open /secret/path/tree.bin");
    });
  }

  @AfterEach
  void stop() {
    release.countDown();
    endpoints.close();
  }

  private HttpRequest get(String path, Duration timeout) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoints.port() + path)).timeout(timeout).build();
  }

  @Test
  void healthAnswersWithinASecondWhileEverySlowRouteThreadIsBlocked() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> slow = new ArrayList<>();
    // Enough to occupy every JSON thread and fill its queue: the old single pool had 2 threads.
    for (int i = 0; i < HttpEndpoints.SLOW_ROUTE_THREADS + HttpEndpoints.SLOW_ROUTE_QUEUE; i++) {
      slow.add(http.sendAsync(get("/slow", Duration.ofSeconds(60)), HttpResponse.BodyHandlers.ofString()));
    }
    await("slow requests running or queued").atMost(Duration.ofSeconds(30))
        .until(() -> endpoints.slowRoutesInFlight() == slow.size());
    HttpResponse<String> busy = http.send(get("/slow", Duration.ofSeconds(10)), HttpResponse.BodyHandlers.ofString());
    assertThat(busy.statusCode()).as("a request past the bound is refused, not queued").isEqualTo(503);
    assertThat(busy.body()).contains("busy");
    for (int i = 0; i < 5; i++) {
      // The probe's own bound (Kubernetes' default timeoutSeconds is 1): a blocked /health hangs.
      HttpResponse<String> health = http.send(get("/health", Duration.ofSeconds(1)), HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).isEqualTo(200);
      assertThat(health.body()).isEqualTo("ok\n");
    }
    assertThat(http.send(get("/metrics", Duration.ofSeconds(1)), HttpResponse.BodyHandlers.ofString()).statusCode())
        .isEqualTo(200);
    release.countDown();
    for (CompletableFuture<HttpResponse<String>> f : slow) {
      assertThat(f.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void aFailingRouteAnswers500WithoutItsExceptionText() throws Exception {
    HttpResponse<String> r = http.send(get("/broken", Duration.ofSeconds(10)), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(r.body()).contains("internal error").doesNotContain("/secret/path").doesNotContain("IllegalState");
  }
}
