package dev.arbor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.cluster.v1.WriteOutcome;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.DataNodeClient;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.cluster.WriteConsistency;
import dev.arbor.http.ApiClient;
import dev.arbor.liaison.RequestLimits;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.EmbeddedNodeRegistry;
import dev.arbor.property.EntityKey;
import dev.arbor.property.HybridClock;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import io.grpc.Deadline;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console of a liaison and of a data node over three real data nodes (Lucene on disk, gRPC on
 * loopback): the matrix shows a replica that took a write the others missed as disagreeing, a
 * repair started from the console brings the shard back to agreement, and the versions view names
 * the winning copy and why.
 */
class ConsoleClusterTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  @TempDir Path dir;
  private EmbeddedMetadataStore metadata;
  private final List<DataNodeServer> nodes = new ArrayList<>();
  private LiaisonServer liaison;
  private ApiClient console;

  @BeforeEach
  void start() throws Exception {
    metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system());
    EmbeddedNodeRegistry registry = new EmbeddedNodeRegistry();
    // No scheduled rounds: only the console's repair may heal the broken replica.
    RepairConfig repair = new RepairConfig("off", Duration.ofMinutes(1), Duration.ofMinutes(1), Duration.ofHours(1),
        Duration.ofDays(1));
    for (int i = 1; i <= 3; i++) {
      nodes.add(DataNodeServer.start("data-" + i, ServerConfig.defaults(dir.resolve("data-" + i))
          .withHost("127.0.0.1").withPorts(0, 0).withRepair(repair), metadata, registry, "127.0.0.1",
          Duration.ofMinutes(1)));
    }
    liaison = LiaisonServer.start("127.0.0.1", 0, 0, metadata, registry, RequestLimits.DEFAULTS,
        WriteConsistency.ALL, Duration.ofSeconds(5), 64, HybridClock.system(),
        dev.arbor.transport.GrpcServerLimits.DEFAULTS, dev.arbor.liaison.ReplicaCallLimits.DEFAULTS,
        dev.arbor.transport.SecurityConfig.NONE,
        new LiaisonMembership("liaison-1", "127.0.0.1", Duration.ofMinutes(1), null));
    ApiClient api = new ApiClient("http://127.0.0.1:" + liaison.httpPort());
    console = api;
    await().atMost(WAIT).until(() -> api.get("/api/healthz").status() == 200);
    assertThat(api.post("/api/v1/group/schema", "{\"group\":{\"metadata\":{\"name\":\"g\"},"
        + "\"catalog\":\"CATALOG_PROPERTY\",\"resourceOpts\":{\"shardNum\":2,\"replicas\":2}}}").status())
        .isEqualTo(200);
    assertThat(api.post("/api/v1/property/schema", "{\"property\":{\"metadata\":{\"group\":\"g\",\"name\":\"ui\"},"
        + "\"tags\":[{\"name\":\"title\",\"type\":\"TAG_TYPE_STRING\"}]}}").status()).isEqualTo(200);
    for (int i = 0; i < 10; i++) {
      ApiClient.Answer a = api.put("/api/v1/property/data/g/ui/p" + i,
          "{\"property\":{\"tags\":[{\"key\":\"title\",\"value\":{\"str\":{\"value\":\"v" + i + "\"}}}]}}");
      assertThat(a.status()).as(a.toString()).isEqualTo(200);
    }
  }

  @AfterEach
  void stop() {
    if (liaison != null) {
      liaison.close();
    }
    nodes.forEach(DataNodeServer::close);
    metadata.close();
  }

  private JsonNode json(ApiClient client, String path) throws Exception {
    ApiClient.Answer a = client.get(path);
    assertThat(a.status()).as(path + ": " + a).isEqualTo(200);
    return a.json();
  }

  private JsonNode shardRow(ApiClient client, int shard) throws Exception {
    return json(client, "/console/api/groups/g/matrix").path("shards").get(shard);
  }

  /** Starts a repair of the whole group from the console and waits for it to end. */
  private JsonNode repairFromConsole(ApiClient client) throws Exception {
    ApiClient.Answer started = client.post("/console/api/repair", "{\"group\":\"g\"}");
    assertThat(started.status()).as(started.toString()).isEqualTo(200);
    String id = started.json().path("id").asText();
    await().atMost(WAIT).until(() -> json(client, "/console/api/repair/" + id).path("done").asBoolean());
    return json(client, "/console/api/repair/" + id);
  }

  @Test
  void matrixTurnsDisagreeWhenOneReplicaDiffersAndAgreeAfterARepairStartedFromTheConsole() throws Exception {
    JsonNode nodesJson = json(console, "/console/api/nodes");
    assertThat(nodesJson).hasSize(4);
    for (JsonNode n : nodesJson) {
      assertThat(n.path("health").asText()).as(n.toString()).isEqualTo("serving");
      assertThat(n.path("registrationAgeMs").isNumber()).as(n.toString()).isTrue();
      assertThat(n.path("role").asText()).isIn("data", "liaison");
      if (n.path("role").asText().equals("data")) {
        assertThat(n.path("diskUsedPercent").asDouble()).isBetween(0.0, 100.0);
      }
    }

    // A first round builds every replica's tree; from then on they follow writes live.
    JsonNode first = repairFromConsole(console);
    assertThat(first.path("state").asText()).as(first.toString()).isEqualTo("ok");
    assertThat(first.path("text").asText()).startsWith("done");
    assertThat(first.path("rounds")).hasSize(2);
    await().atMost(WAIT).untilAsserted(() -> {
      for (int s = 0; s < 2; s++) {
        JsonNode row = shardRow(console, s);
        assertThat(row.path("agreement").asText()).as(row.toString()).isEqualTo("agree");
        assertThat(row.path("replicas")).hasSize(3);
        assertThat(row.path("lastRepair").path("ageMs").isNumber()).as(row.toString()).isTrue();
      }
    });

    // One replica takes a newer version of p3 that the others never see.
    EntityKey key = new EntityKey("g", "ui", "p3");
    int shard = ShardRouter.shardOf(key, 2);
    String broken = shardRow(console, shard).path("replicas").get(1).path("node").asText();
    DataNodeServer target = nodes.stream().filter(n -> n.nodeId().equals(broken)).findFirst().orElseThrow();
    byte[] source = Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup("g").setName("ui"))
        .setId("p3")
        .addTags(Tag.newBuilder().setKey("title").setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue("only-here"))))
        .build().toByteArray();
    long revision = HybridClock.system().next();
    try (DataNodeClient client = new DataNodeClient(DataNode.of(broken, target.advertisedAddress()),
        Duration.ofSeconds(10))) {
      var reply = client.write(List.of(StoredProperties.toProto("g", shard,
          PropertyRecord.live(key, revision, revision, source))), false,
          Deadline.after(10, TimeUnit.SECONDS)).get(10, TimeUnit.SECONDS);
      assertThat(reply.outcomes()).containsExactly(WriteOutcome.WRITE_OUTCOME_STORED);
    }

    await().atMost(WAIT).untilAsserted(() -> {
      JsonNode row = shardRow(console, shard);
      assertThat(row.path("agreement").asText()).as(row.toString()).isEqualTo("disagree");
      for (JsonNode cell : row.path("replicas")) {
        assertThat(cell.path("state").asText()).as(cell.toString())
            .isEqualTo(cell.path("node").asText().equals(broken) ? "disagree" : "agree");
      }
    });
    JsonNode other = shardRow(console, 1 - shard);
    assertThat(other.path("agreement").asText()).as("the other shard is untouched").isEqualTo("agree");

    // The versions view: the lone newer copy wins, by its mod revision.
    JsonNode versions = json(console, "/console/api/properties/g/ui/p3/versions");
    assertThat(versions.path("shard").asInt()).isEqualTo(shard);
    assertThat(versions.path("winner").asText()).isEqualTo(broken);
    for (JsonNode r : versions.path("replicas")) {
      boolean isBroken = r.path("node").asText().equals(broken);
      assertThat(r.path("winner").asBoolean()).isEqualTo(isBroken);
      if (isBroken) {
        assertThat(r.path("modRevision").asLong()).isEqualTo(revision);
      } else {
        assertThat(r.path("reason").asText()).startsWith("newer mod revision");
      }
    }
    assertThat(versions.path("reason").asText()).contains(broken, "newer mod revision");

    // A data node's console sees the same matrix, asking its peers.
    ApiClient dataConsole = new ApiClient("http://127.0.0.1:" + nodes.get(0).httpPort());
    assertThat(shardRow(dataConsole, shard).path("agreement").asText()).isEqualTo("disagree");

    JsonNode healed = repairFromConsole(console);
    assertThat(healed.path("state").asText()).as(healed.toString()).isEqualTo("ok");
    long repaired = 0;
    for (JsonNode r : healed.path("rounds")) {
      repaired += r.path("repaired").asLong();
    }
    assertThat(repaired).as(healed.toString()).isGreaterThanOrEqualTo(2);
    long repairedByHeal = repaired;
    await().atMost(WAIT).untilAsserted(() -> {
      JsonNode row = shardRow(console, shard);
      assertThat(row.path("agreement").asText()).as(row.toString()).isEqualTo("agree");
    });
    JsonNode after = json(console, "/console/api/properties/g/ui/p3/versions");
    for (JsonNode r : after.path("replicas")) {
      assertThat(r.path("modRevision").asLong()).isEqualTo(revision);
    }
    assertThat(after.path("reason").asText()).contains("same version");

    // The rounds timeline, from the data nodes' trace stores.
    JsonNode rounds = json(console, "/console/api/rounds?limit=10");
    await().atMost(WAIT).untilAsserted(() -> {
      JsonNode rs = json(console, "/console/api/rounds?limit=10").path("rounds");
      assertThat(rs).hasSize(4);
      long total = 0;
      for (JsonNode r : rs) {
        assertThat(r.path("outcome").asText()).isEqualTo("ok");
        assertThat(r.path("hops").asInt()).isEqualTo(3);
        assertThat(r.path("bytes").asLong()).isPositive();
        total += r.path("repaired").asLong();
      }
      assertThat(total).isEqualTo(repairedByHeal);
    });
    assertThat(rounds.path("tracing").asBoolean()).isTrue();

    // A data node's console starts rounds too (it originates them itself).
    JsonNode fromData = repairFromConsole(dataConsole);
    assertThat(fromData.path("state").asText()).as(fromData.toString()).isEqualTo("ok");
  }
}
