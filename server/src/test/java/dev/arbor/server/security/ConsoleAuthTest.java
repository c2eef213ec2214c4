package dev.arbor.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.http.ApiClient;
import dev.arbor.transport.HttpAuth;
import dev.arbor.transport.SecurityConfig;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With users configured the console asks for basic-auth credentials on every page, asset and JSON
 * route (the browser's prompt), whatever --http-auth says; reading needs role read, starting a
 * repair role admin.
 */
class ConsoleAuthTest {
  @TempDir Path dir;

  @Test
  void pagesAndJsonNeedCredentialsAndRepairNeedsAdmin() throws Exception {
    Path users = SecureStandalone.writeUsers(dir.resolve("users.yaml"), """
        users:
          - {username: reader, password: r-pw, role: read}
          - {username: admin, password: a-pw, role: admin}
        """);
    try (SecureStandalone s = SecureStandalone.start(dir.resolve("data"),
        new SecurityConfig(null, users, HttpAuth.NONE, Duration.ofSeconds(10)))) {
      ApiClient http = new ApiClient("http://127.0.0.1:" + s.server.httpPort());
      for (String path : new String[] {"/", "/console/cluster", "/console/assets/console.js", "/console/api/nodes",
          "/console/api/groups"}) {
        ApiClient.Answer anonymous = http.as(null, null).get(path);
        assertThat(anonymous.status()).as(path).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("WWW-Authenticate").orElse("")).as(path).startsWith("Basic ");
        assertThat(http.as("reader", "wrong").get(path).status()).as(path).isEqualTo(401);
      }
      assertThat(http.as("reader", "r-pw").get("/console/cluster").status()).isEqualTo(200);
      ApiClient.Answer nodes = http.as("reader", "r-pw").get("/console/api/nodes");
      assertThat(nodes.status()).isEqualTo(200);
      assertThat(nodes.json().get(0).path("role").asText()).isEqualTo("standalone");

      ApiClient.Answer readerRepairs = http.as("reader", "r-pw").post("/console/api/repair", "{\"group\":\"g\"}");
      assertThat(readerRepairs.status()).as(readerRepairs.toString()).isEqualTo(403);
      assertThat(readerRepairs.json().path("error").asText()).contains("admin", "read");
      ApiClient.Answer anonymousRepairs = http.as(null, null).post("/console/api/repair", "{\"group\":\"g\"}");
      assertThat(anonymousRepairs.status()).isEqualTo(401);
      // An admin passes the role check; the group does not exist.
      ApiClient.Answer adminRepairs = http.as("admin", "a-pw").post("/console/api/repair", "{\"group\":\"g\"}");
      assertThat(adminRepairs.status()).as(adminRepairs.toString()).isEqualTo(404);
      assertThat(adminRepairs.json().path("error").asText()).contains("group g not found");
    }
  }
}
