package dev.arbor.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.observability.HttpEndpoints;
import dev.arbor.transport.HttpAuth;
import dev.arbor.transport.Role;
import dev.arbor.transport.SecurityConfig;
import dev.arbor.transport.ServerSecurity;
import dev.arbor.transport.UserDirectory;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HTTP basic auth on the HTTP port, against the same users as gRPC. */
class HttpAuthTest {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  @TempDir Path dir;

  private static int get(int port, String path, String user, String password) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(20));
    if (user != null) {
      b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
          (user + ":" + password).getBytes(StandardCharsets.UTF_8)));
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private Path users() throws Exception {
    return SecureStandalone.writeUsers(dir.resolve("users.yaml"), """
        users:
          - {username: prom, password: scrape, role: read}
        """);
  }

  @Test
  void protectedModeGuardsMetricsButNotHealth() throws Exception {
    try (SecureStandalone s = SecureStandalone.start(dir.resolve("data"),
        new SecurityConfig(null, users(), HttpAuth.PROTECTED, Duration.ofSeconds(10)))) {
      int port = s.server.httpPort();
      assertThat(get(port, "/health", null, null)).isEqualTo(200);
      assertThat(get(port, "/metrics", null, null)).isEqualTo(401);
      assertThat(get(port, "/metrics", "prom", "wrong")).isEqualTo(401);
      assertThat(get(port, "/metrics", "nobody", "scrape")).isEqualTo(401);
      assertThat(get(port, "/metrics", "prom", "scrape")).isEqualTo(200);
    }
  }

  @Test
  void allModeGuardsHealthToo() throws Exception {
    try (SecureStandalone s = SecureStandalone.start(dir.resolve("data"),
        new SecurityConfig(null, users(), HttpAuth.ALL, Duration.ofSeconds(10)))) {
      int port = s.server.httpPort();
      assertThat(get(port, "/health", null, null)).isEqualTo(401);
      assertThat(get(port, "/health", "prom", "scrape")).isEqualTo(200);
    }
  }

  @Test
  void noneModeLeavesEveryRouteOpen() throws Exception {
    try (SecureStandalone s = SecureStandalone.start(dir.resolve("data"),
        new SecurityConfig(null, users(), HttpAuth.NONE, Duration.ofSeconds(10)))) {
      assertThat(get(s.server.httpPort(), "/metrics", null, null)).isEqualTo(200);
    }
  }

  /** Routes added later (the repair traces route of a data node) are guarded like /metrics. */
  @Test
  void jsonRoutesAddedLaterNeedCredentials() throws Exception {
    UserDirectory users = UserDirectory.of(Map.of("ops", UserDirectory.User.plain("ops", "pw", Role.ADMIN)));
    ServerSecurity security = new ServerSecurity(null, users, m -> Role.ADMIN, HttpAuth.PROTECTED);
    try (HttpEndpoints http = new HttpEndpoints("127.0.0.1", 0, security,
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), () -> true, List::of)) {
      http.addJsonRoute("/repair/traces", params -> "{\"spans\":[]}");
      assertThat(get(http.port(), "/repair/traces", null, null)).isEqualTo(401);
      assertThat(get(http.port(), "/repair/traces", "ops", "pw")).isEqualTo(200);
    }
  }
}
