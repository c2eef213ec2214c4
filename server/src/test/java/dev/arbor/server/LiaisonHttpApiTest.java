package dev.arbor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.cluster.WriteConsistency;
import dev.arbor.http.ApiClient;
import dev.arbor.liaison.RequestLimits;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.EmbeddedNodeRegistry;
import dev.arbor.property.HybridClock;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.MessageLimits;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A liaison serves the HTTP API over its data nodes, and reports itself ready (gRPC health,
 * /api/healthz) only once a data node is registered; data nodes answer the health service too.
 */
class LiaisonHttpApiTest {
  @TempDir Path dir;

  private static ServingStatus health(int port) {
    ManagedChannel ch = ChannelFactory.plaintext().open("127.0.0.1:" + port, MessageLimits.MAX_MESSAGE_BYTES);
    try {
      return HealthGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
          .check(HealthCheckRequest.getDefaultInstance()).getStatus();
    } finally {
      ch.shutdownNow();
    }
  }

  @Test
  void liaisonServesTheApiOnceDataNodesRegister() throws Exception {
    EmbeddedMetadataStore metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system());
    EmbeddedNodeRegistry registry = new EmbeddedNodeRegistry();
    List<DataNodeServer> nodes = new ArrayList<>();
    try (LiaisonServer liaison = LiaisonServer.start("127.0.0.1", 0, 0, metadata, registry, RequestLimits.DEFAULTS,
        WriteConsistency.ALL, Duration.ofSeconds(5), 64)) {
      ApiClient api = new ApiClient("http://127.0.0.1:" + liaison.httpPort());
      assertThat(health(liaison.grpcPort())).as("no data node yet").isEqualTo(ServingStatus.NOT_SERVING);
      ApiClient.Answer notReady = api.get("/api/healthz");
      assertThat(notReady.status()).isEqualTo(503);
      assertThat(notReady.json().path("reasons").toString()).contains("no data node registered");

      for (int i = 1; i <= 2; i++) {
        ServerConfig cfg = ServerConfig.defaults(dir.resolve("data-" + i)).withHost("127.0.0.1").withPorts(0, 0);
        nodes.add(DataNodeServer.start("data-" + i, cfg, metadata, registry, "127.0.0.1", Duration.ofSeconds(10)));
      }
      assertThat(health(nodes.get(0).grpcPort())).isEqualTo(ServingStatus.SERVING);
      await().atMost(Duration.ofSeconds(10)).until(() -> health(liaison.grpcPort()) == ServingStatus.SERVING);
      assertThat(api.get("/api/healthz").json().path("status").asText()).isEqualTo("SERVING");

      ApiClient.Answer tooMany = api.post("/api/v1/group/schema", "{\"group\":{\"metadata\":{\"name\":\"big\"},"
          + "\"catalog\":\"CATALOG_PROPERTY\",\"resourceOpts\":{\"shardNum\":1,\"replicas\":2}}}");
      assertThat(tooMany.status()).as(tooMany.toString()).isEqualTo(400);
      assertThat(tooMany.code()).as("FAILED_PRECONDITION").isEqualTo(9);
      assertThat(tooMany.message()).contains("2 data nodes");

      assertThat(api.post("/api/v1/group/schema", "{\"group\":{\"metadata\":{\"name\":\"g\"},"
          + "\"catalog\":\"CATALOG_PROPERTY\",\"resourceOpts\":{\"shardNum\":2,\"replicas\":1}}}").status())
          .isEqualTo(200);
      assertThat(api.post("/api/v1/property/schema", "{\"property\":{\"metadata\":{\"group\":\"g\",\"name\":\"ui\"},"
          + "\"tags\":[{\"name\":\"k\",\"type\":\"TAG_TYPE_STRING\"}]}}").status()).isEqualTo(200);
      ApiClient.Answer applied = api.put("/api/v1/property/data/g/ui/p1",
          "{\"property\":{\"tags\":[{\"key\":\"k\",\"value\":{\"str\":{\"value\":\"v\"}}}]}}");
      assertThat(applied.status()).as(applied.toString()).isEqualTo(200);
      assertThat(applied.json().path("created").asBoolean()).isTrue();
      ApiClient.Answer found = api.post("/api/v1/property/data/query", "{\"groups\":[\"g\"],\"name\":\"ui\"}");
      assertThat(found.status()).isEqualTo(200);
      assertThat(found.json().path("properties").get(0).path("id").asText()).isEqualTo("p1");
      assertThat(api.delete("/api/v1/property/data/g/ui/p1").json().path("deleted").asBoolean()).isTrue();
      assertThat(api.post("/api/v1/property/data/query", "{\"groups\":[\"g\"],\"name\":\"ui\"}")
          .json().path("properties").size()).isZero();

      // Data nodes hold no public API: their HTTP port has no /api/v1 routes.
      ApiClient dataHttp = new ApiClient("http://127.0.0.1:" + nodes.get(0).httpPort());
      assertThat(dataHttp.send("GET", "/api/v1/group/schema/lists", null).status()).isEqualTo(404);
    } finally {
      nodes.forEach(DataNodeServer::close);
      metadata.close();
    }
  }
}
