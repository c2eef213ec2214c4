package dev.arbor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.cluster.WriteConsistency;
import dev.arbor.http.ApiClient;
import dev.arbor.liaison.RequestLimits;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.metadata.NodeRegistry;
import dev.arbor.metadata.etcd.EtcdMetadataStore;
import dev.arbor.metadata.etcd.EtcdNodeRegistry;
import dev.arbor.metadata.etcd.EtcdProcess;
import dev.arbor.property.HybridClock;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.MessageLimits;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster node's readiness follows its metadata: with the real etcd process stopped, a data
 * node and a liaison answer NOT_SERVING (gRPC health and /api/healthz, naming etcd) within a
 * bounded wait, and SERVING again once etcd is back; {@code /health} (liveness) stays 200.
 */
class EtcdReadinessTest {
  private static final String PREFIX = "/readiness/";
  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  /** Leases of 2 s: a lost registration is noticed (and renewed) within seconds. */
  private static final Duration TTL = Duration.ofSeconds(2);

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
  void stoppingEtcdMakesClusterNodesNotServingAndRestartingItServingAgain() throws Exception {
    try (EtcdProcess etcd = EtcdProcess.start(dir.resolve("etcd"));
        MetadataStore dataMeta = EtcdMetadataStore.connect(etcd.endpoints(), PREFIX, HybridClock.system(), TIMEOUT);
        NodeRegistry dataRegistry = EtcdNodeRegistry.connect(etcd.endpoints(), PREFIX, TIMEOUT);
        MetadataStore liaisonMeta = EtcdMetadataStore.connect(etcd.endpoints(), PREFIX, HybridClock.system(), TIMEOUT);
        NodeRegistry liaisonRegistry = EtcdNodeRegistry.connect(etcd.endpoints(), PREFIX, TIMEOUT)) {
      ServerConfig cfg = ServerConfig.defaults(dir.resolve("data-1")).withHost("127.0.0.1").withPorts(0, 0);
      try (DataNodeServer data = DataNodeServer.start("data-1", cfg, dataMeta, dataRegistry, "127.0.0.1", TTL);
          LiaisonServer liaison = LiaisonServer.start("127.0.0.1", 0, 0, liaisonMeta, liaisonRegistry,
              RequestLimits.DEFAULTS, WriteConsistency.ONE, Duration.ofSeconds(5), 64)) {
        ApiClient dataHttp = new ApiClient("http://127.0.0.1:" + data.httpPort());
        ApiClient liaisonHttp = new ApiClient("http://127.0.0.1:" + liaison.httpPort());
        await().atMost(Duration.ofSeconds(10)).until(() -> health(liaison.grpcPort()) == ServingStatus.SERVING);
        assertThat(health(data.grpcPort())).isEqualTo(ServingStatus.SERVING);

        etcd.stop();
        for (int port : new int[] {data.grpcPort(), liaison.grpcPort()}) {
          await().atMost(Duration.ofSeconds(20)).until(() -> health(port) == ServingStatus.NOT_SERVING);
        }
        for (ApiClient http : List.of(dataHttp, liaisonHttp)) {
          ApiClient.Answer a = await().atMost(Duration.ofSeconds(5)).until(() -> http.get("/api/healthz"),
              x -> x.status() == 503);
          assertThat(a.json().path("status").asText()).isEqualTo("NOT_SERVING");
          assertThat(a.json().path("reasons").toString()).contains("etcd at", "unreachable");
          // Liveness is not readiness: the process is fine and must not be restarted for etcd's sake.
          assertThat(http.get("/health").status()).isEqualTo(200);
        }

        etcd.start();
        for (int port : new int[] {data.grpcPort(), liaison.grpcPort()}) {
          await().atMost(Duration.ofSeconds(30)).until(() -> health(port) == ServingStatus.SERVING);
        }
        for (ApiClient http : List.of(dataHttp, liaisonHttp)) {
          ApiClient.Answer a = http.get("/api/healthz");
          assertThat(a.status()).as(a.toString()).isEqualTo(200);
          assertThat(a.json().path("status").asText()).isEqualTo("SERVING");
        }
      }
    }
  }
}
