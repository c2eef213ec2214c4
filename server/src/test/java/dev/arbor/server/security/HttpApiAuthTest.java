package dev.arbor.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.http.ApiClient;
import dev.arbor.transport.ClientSecurity;
import dev.arbor.transport.HttpAuth;
import dev.arbor.transport.SecurityConfig;
import dev.arbor.transport.ServerTls;
import dev.arbor.transport.TestPki;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP API authenticates with HTTP basic auth against the users of --auth-config-file and
 * applies the gRPC roles; the health checks need no credentials.
 */
class HttpApiAuthTest {
  private static final String GROUP = "{\"group\":{\"metadata\":{\"name\":\"g\"},\"catalog\":\"CATALOG_PROPERTY\","
      + "\"resourceOpts\":{\"shardNum\":1}}}";

  @TempDir Path dir;

  private Path users() throws Exception {
    return SecureStandalone.writeUsers(dir.resolve("users.yaml"), """
        users:
          - {username: reader, password: r-pw, role: read}
          - {username: writer, password: w-pw, role: write}
          - {username: admin, password: a-pw, role: admin}
        """);
  }

  @Test
  void basicAuthAndRolesAsOnTheGrpcPort() throws Exception {
    // --http-auth none leaves /metrics open; the API is guarded all the same, as gRPC is.
    try (SecureStandalone s = SecureStandalone.start(dir.resolve("data"),
        new SecurityConfig(null, users(), HttpAuth.NONE, Duration.ofSeconds(10)))) {
      ApiClient api = new ApiClient("http://127.0.0.1:" + s.server.httpPort());

      ApiClient.Answer anonymous = api.get("/api/v1/common/api/version");
      assertThat(anonymous.status()).isEqualTo(401);
      assertThat(anonymous.code()).isEqualTo(16);
      assertThat(anonymous.message()).contains("basic-auth");
      assertThat(anonymous.headers().firstValue("WWW-Authenticate").orElse("")).startsWith("Basic ");
      ApiClient.Answer wrong = api.as("reader", "nope").get("/api/v1/common/api/version");
      assertThat(wrong.status()).isEqualTo(401);
      assertThat(wrong.message()).contains("wrong username or password");

      assertThat(api.as("reader", "r-pw").get("/api/v1/common/api/version").status()).isEqualTo(200);
      ApiClient.Answer readerCreates = api.as("reader", "r-pw").post("/api/v1/group/schema", GROUP);
      assertThat(readerCreates.status()).isEqualTo(403);
      assertThat(readerCreates.code()).isEqualTo(7);
      assertThat(readerCreates.message()).contains("reader", "read", "admin");
      assertThat(api.as("writer", "w-pw").post("/api/v1/group/schema", GROUP).status()).isEqualTo(403);
      assertThat(api.as("admin", "a-pw").post("/api/v1/group/schema", GROUP).status()).isEqualTo(200);
      assertThat(api.as("admin", "a-pw").post("/api/v1/property/schema", "{\"property\":{\"metadata\":"
          + "{\"group\":\"g\",\"name\":\"ui\"},\"tags\":[{\"name\":\"k\",\"type\":\"TAG_TYPE_STRING\"}]}}")
          .status()).isEqualTo(200);

      String apply = "{\"property\":{\"tags\":[{\"key\":\"k\",\"value\":{\"str\":{\"value\":\"v\"}}}]}}";
      assertThat(api.as("reader", "r-pw").put("/api/v1/property/data/g/ui/p", apply).status()).isEqualTo(403);
      assertThat(api.as("writer", "w-pw").put("/api/v1/property/data/g/ui/p", apply).status()).isEqualTo(200);
      ApiClient.Answer read = api.as("reader", "r-pw").post("/api/v1/property/data/query",
          "{\"groups\":[\"g\"],\"name\":\"ui\",\"ids\":[\"p\"]}");
      assertThat(read.json().path("properties").size()).isEqualTo(1);
    }
  }

  @Test
  void healthNeedsNoCredentials() throws Exception {
    try (SecureStandalone s = SecureStandalone.start(dir.resolve("data"),
        new SecurityConfig(null, users(), HttpAuth.PROTECTED, Duration.ofSeconds(10)))) {
      ApiClient api = new ApiClient("http://127.0.0.1:" + s.server.httpPort());
      ApiClient.Answer healthz = api.get("/api/healthz");
      assertThat(healthz.status()).isEqualTo(200);
      assertThat(healthz.json().path("status").asText()).isEqualTo("SERVING");

      HealthCheckResponse grpc = HealthGrpc.newBlockingStub(s.channel(ClientSecurity.PLAINTEXT))
          .withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
      assertThat(grpc.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }
  }

  @Test
  void apiOverHttps() throws Exception {
    TestPki ca = TestPki.newCa("test-ca");
    Path caFile = ca.writeCa(dir.resolve("ca.crt"));
    TestPki.Leaf leaf = ca.issue("arbor", dir, "server");
    SecurityConfig tls = new SecurityConfig(new ServerTls(leaf.certFile(), leaf.keyFile(), null,
        Duration.ofSeconds(10)), users(), HttpAuth.PROTECTED, Duration.ofSeconds(10));
    try (SecureStandalone s = SecureStandalone.start(dir.resolve("data"), tls)) {
      ApiClient api = new ApiClient("https://localhost:" + s.server.httpPort(), SecureStandalone.trusting(caFile));
      assertThat(api.get("/api/v1/common/api/version").status()).isEqualTo(401);
      ApiClient.Answer v = api.as("reader", "r-pw").get("/api/v1/common/api/version");
      assertThat(v.status()).isEqualTo(200);
      assertThat(v.json().path("version").path("version").asText()).isEqualTo("0.9");
    }
  }
}
