package dev.arbor.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.EmbeddedNodeRegistry;
import dev.arbor.property.HybridClock;
import dev.arbor.server.DataNodeServer;
import dev.arbor.server.RepairConfig;
import dev.arbor.server.ServerConfig;
import dev.arbor.transport.HttpAuth;
import dev.arbor.transport.SecurityConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A data node's HTTP routes that reveal topology ask for credentials when it is given users. */
class DataNodeHttpAuthTest {
  @TempDir Path dir;

  @Test
  void metricsAndRepairTracesNeedCredentials() throws Exception {
    Path users = SecureStandalone.writeUsers(dir.resolve("users.yaml"), """
        users:
          - {username: ops, password: tr4ces, role: admin}
        """);
    RepairConfig repair = new RepairConfig("off", Duration.ofMinutes(1), Duration.ofMinutes(1), Duration.ofHours(1),
        Duration.ofDays(1));
    try (EmbeddedMetadataStore metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system());
        DataNodeServer node = DataNodeServer.start("n1", ServerConfig.defaults(dir.resolve("n1"))
            .withHost("127.0.0.1").withPorts(0, 0).withRepair(repair), metadata, new EmbeddedNodeRegistry(),
            "127.0.0.1", Duration.ofMinutes(1),
            new SecurityConfig(null, users, HttpAuth.PROTECTED, Duration.ofSeconds(10)))) {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
      String base = "http://127.0.0.1:" + node.httpPort();
      String basic = "Basic " + Base64.getEncoder().encodeToString("ops:tr4ces".getBytes(StandardCharsets.UTF_8));
      for (String path : new String[] {"/metrics", "/repair/traces"}) {
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + path)).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode()).as(path).isEqualTo(401);
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", basic).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode()).as(path).isEqualTo(200);
      }
      assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(200);
    }
  }
}
