package dev.arbor.observability.trace;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.arbor.observability.HttpEndpoints;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code GET /repair/traces} on a real {@link HttpEndpoints} server. */
class TraceHttpHandlerTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private final HttpClient http = HttpClient.newHttpClient();
  private SpanStore store;
  private TraceQuery query;
  private HttpEndpoints endpoints;
  private final Instant t0 = Instant.ofEpochSecond(Instant.now().minus(Duration.ofMinutes(30)).getEpochSecond(), 123_456_789);

  @BeforeEach
  void start() throws IOException {
    store = new SpanStore(dir.resolve("traces"), Duration.ofDays(3));
    query = new TraceQuery("n1", store, List::of);
    endpoints = new HttpEndpoints("127.0.0.1", 0, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), () -> true);
    endpoints.addJsonRoute(TraceHttpHandler.PATH, new TraceHttpHandler(query, Clock.systemUTC()));

    long s = Spans.nanos(t0);
    store.record(new RepairSpan("ui_1_n1_1", "n1_1", "", "n1", "sync properties", s, s + 12_500_000L, true,
        "peer n2: UNAVAILABLE", 2, "ui", 1, Map.of("target_node", "n2", "operate_type", "start_sync")));
    store.record(Spans.span("metrics_0_n1_2", "n1_2", "n1", "metrics", s + 1_000));
    store.record(Spans.span("ui_0_n1_3", "n1_3", "n1", "ui", Spans.nanos(t0.minus(Duration.ofHours(2)))));
  }

  @AfterEach
  void stop() {
    endpoints.close();
    query.close();
    store.close();
  }

  @Test
  void servesSpansAsJson() throws Exception {
    HttpResponse<String> r = get("/repair/traces?group=ui&since=1h");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
    JsonNode body = JSON.readTree(r.body());
    assertThat(body.get("unreachable_nodes").isArray()).isTrue();
    assertThat(body.get("spans")).hasSize(1);
    JsonNode span = body.get("spans").get(0);
    assertThat(span.get("trace_id").asText()).isEqualTo("ui_1_n1_1");
    assertThat(span.get("span_id").asText()).isEqualTo("n1_1");
    assertThat(span.get("parent_span_id").asText()).isEmpty();
    assertThat(span.get("node_id").asText()).isEqualTo("n1");
    assertThat(span.get("message").asText()).isEqualTo("sync properties");
    assertThat(span.get("start").asText()).isEqualTo(t0.toString());
    assertThat(span.get("start_unix_nanos").asLong()).isEqualTo(Spans.nanos(t0));
    assertThat(span.get("end_unix_nanos").asLong()).isEqualTo(Spans.nanos(t0) + 12_500_000L);
    assertThat(span.get("duration_ms").asDouble()).isEqualTo(12.5);
    assertThat(span.get("error").asBoolean()).isTrue();
    assertThat(span.get("error_reason").asText()).isEqualTo("peer n2: UNAVAILABLE");
    assertThat(span.get("sequence").asInt()).isEqualTo(2);
    assertThat(span.get("group").asText()).isEqualTo("ui");
    assertThat(span.get("shard").asInt()).isEqualTo(1);
    assertThat(span.at("/tags/target_node").asText()).isEqualTo("n2");
  }

  @Test
  void parametersFilterAndLimit() throws Exception {
    assertThat(spanIds(get("/repair/traces"))).containsExactly("n1_3", "n1_1", "n1_2");
    assertThat(spanIds(get("/repair/traces?since=1h"))).containsExactly("n1_1", "n1_2");
    assertThat(spanIds(get("/repair/traces?trace=metrics_0_n1_2&cluster=true"))).containsExactly("n1_2");
    assertThat(spanIds(get("/repair/traces?limit=1"))).containsExactly("n1_3");
  }

  @Test
  void badParametersAre400NamingTheParameter() throws Exception {
    assertBadRequest("/repair/traces?since=yesterday", "since");
    assertBadRequest("/repair/traces?limit=0", "limit");
    assertBadRequest("/repair/traces?limit=many", "limit");
    assertBadRequest("/repair/traces?cluster=maybe", "cluster");
    assertBadRequest("/repair/traces?grup=ui", "grup");
    assertBadRequest("/repair/traces?since=99999999999999999999d", "since");
  }

  @Test
  void otherRoutesKeepWorking() throws Exception {
    assertThat(get("/health").body()).isEqualTo("ok\n");
    assertThat(get("/metrics").statusCode()).isEqualTo(200);
    assertThat(get("/repair/tracesX").statusCode()).isEqualTo(404);
    HttpResponse<String> post = http.send(
        HttpRequest.newBuilder(uri("/repair/traces")).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(405);
  }

  private void assertBadRequest(String path, String parameter) throws Exception {
    HttpResponse<String> r = get(path);
    assertThat(r.statusCode()).as(path).isEqualTo(400);
    assertThat(r.body().strip()).doesNotContain("\n");
    assertThat(JSON.readTree(r.body()).get("error").asText()).as(path).contains(parameter);
  }

  private List<String> spanIds(HttpResponse<String> r) throws IOException {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body()).findValuesAsText("span_id");
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + endpoints.port() + path);
  }
}
