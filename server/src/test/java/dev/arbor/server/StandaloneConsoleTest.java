package dev.arbor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.arbor.http.ApiClient;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The console of a standalone server: redirect, pages, and the JSON of its single copy. */
class StandaloneConsoleTest {
  @TempDir Path dir;

  private static JsonNode shardOfHome(ApiClient http) throws Exception {
    int shard = http.get("/console/api/properties/g/ui/home/versions").json().path("shard").asInt();
    return http.get("/console/api/groups/g/matrix").json().path("shards").get(shard).path("replicas").get(0);
  }

  @Test
  void servesPagesAndAnswersForItsSingleCopy() throws Exception {
    try (StandaloneServer server = StandaloneServer.start(
        ServerConfig.defaults(dir.resolve("data")).withHost("127.0.0.1").withPorts(0, 0)
            .withTrees(new TreeConfig(32, "@every 1h", Duration.ofMillis(100), 1, TreeConfig.DEFAULT_SCRUB_RATE)))) {
      ApiClient http = new ApiClient("http://127.0.0.1:" + server.httpPort());
      ApiClient.Answer root = http.get("/");
      assertThat(root.status()).isEqualTo(302);
      assertThat(root.headers().firstValue("Location")).hasValue("/console/cluster");
      for (String page : new String[] {"cluster", "groups", "repair", "properties"}) {
        ApiClient.Answer a = http.get("/console/" + page);
        assertThat(a.status()).as(page).isEqualTo(200);
        assertThat(a.headers().firstValue("Content-Security-Policy").orElse("")).contains("default-src 'self'");
        assertThat(a.body()).contains("id=\"console-nav\"", "<h1>");
      }
      assertThat(http.get("/console/nope").status()).isEqualTo(404);
      assertThat(http.get("/console/assets/../cluster.html").status()).isEqualTo(404);

      assertThat(http.post("/api/v1/group/schema", "{\"group\":{\"metadata\":{\"name\":\"g\"},"
          + "\"catalog\":\"CATALOG_PROPERTY\",\"resourceOpts\":{\"shardNum\":2}}}").status()).isEqualTo(200);
      assertThat(http.post("/api/v1/property/schema", "{\"property\":{\"metadata\":{\"group\":\"g\",\"name\":\"ui\"},"
          + "\"tags\":[{\"name\":\"title\",\"type\":\"TAG_TYPE_STRING\"}]}}").status()).isEqualTo(200);
      assertThat(http.put("/api/v1/property/data/g/ui/home",
          "{\"property\":{\"tags\":[{\"key\":\"title\",\"value\":{\"str\":{\"value\":\"Home\"}}}]}}").status())
          .isEqualTo(200);

      JsonNode nodes = http.get("/console/api/nodes").json();
      assertThat(nodes).hasSize(1);
      assertThat(nodes.get(0).path("role").asText()).isEqualTo("standalone");
      assertThat(nodes.get(0).path("health").asText()).isEqualTo("serving");

      JsonNode groups = http.get("/console/api/groups").json();
      assertThat(groups.path("repair").asBoolean()).isFalse();
      assertThat(groups.path("groups").get(0).path("schemas").get(0).path("tags").get(0).asText())
          .isEqualTo("title:string");

      JsonNode matrix = http.get("/console/api/groups/g/matrix").json();
      assertThat(matrix.path("copies").asInt()).isEqualTo(1);
      assertThat(matrix.path("tombstoneGraceMs").asLong()).isEqualTo(ServerConfig.defaults(dir).tombstoneGrace().toMillis());
      assertThat(matrix.path("shards")).hasSize(2);
      for (JsonNode row : matrix.path("shards")) {
        assertThat(row.path("agreement").asText()).as(row.toString()).isEqualTo("agree");
        assertThat(row.path("replicas").get(0).path("node").asText()).isEqualTo("standalone");
      }

      JsonNode versions = http.get("/console/api/properties/g/ui/home/versions").json();
      assertThat(versions.path("winner").asText()).isEqualTo("standalone");
      assertThat(versions.path("replicas").get(0).path("state").asText()).isEqualTo("live");
      assertThat(versions.path("replicas").get(0).path("property").asText()).contains("Home");
      assertThat(http.get("/console/api/properties/g/ui/nobody/versions").json().path("winner").isNull()).isTrue();
      assertThat(http.get("/console/api/properties/missing/ui/x/versions").status()).isEqualTo(404);

      JsonNode rounds = http.get("/console/api/rounds").json();
      assertThat(rounds.path("rounds")).isEmpty();
      assertThat(rounds.path("tracing").asBoolean()).isFalse();
      assertThat(http.get("/console/api/rounds?limit=0").status()).isEqualTo(400);

      ApiClient.Answer repair = http.post("/console/api/repair", "{\"group\":\"g\",\"shard\":1}");
      assertThat(repair.status()).as(repair.toString()).isEqualTo(409);
      assertThat(repair.json().path("error").asText()).contains("standalone");
      assertThat(http.post("/console/api/repair", "{\"group\":\"g\",\"shard\":7}").status()).isEqualTo(400);
      assertThat(http.post("/console/api/repair", "not json").status()).isEqualTo(400);

      // Once built (the quick build after the first write), the tree follows writes: the root
      // shown changes with the data, and no build is asked for to draw it.
      await().atMost(Duration.ofSeconds(30)).until(() -> shardOfHome(http).path("live").asBoolean());
      String before = shardOfHome(http).path("root").asText();
      assertThat(http.put("/api/v1/property/data/g/ui/home",
          "{\"property\":{\"tags\":[{\"key\":\"title\",\"value\":{\"str\":{\"value\":\"Home 2\"}}}]}}").status())
          .isEqualTo(200);
      JsonNode after = shardOfHome(http);
      assertThat(after.path("root").asText()).isNotEqualTo(before);
      assertThat(after.path("state").asText()).isEqualTo("agree");
    }
  }
}
