package dev.arbor.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.arbor.server.ServerConfig;
import dev.arbor.server.StandaloneServer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official-client workflow (groups, schemas, apply with merge and replace, query by id and
 * criteria, delete) through the HTTP API of a real standalone server over loopback, as curl
 * would send it, with the status codes of each failure.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpApiWorkflowTest {
  @TempDir static Path dir;
  private StandaloneServer server;
  private ApiClient api;

  @BeforeAll
  void start() throws Exception {
    server = StandaloneServer.start(ServerConfig.defaults(dir).withHost("127.0.0.1").withPorts(0, 0));
    api = new ApiClient("http://127.0.0.1:" + server.httpPort());
  }

  @AfterAll
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private static String group(String name, int shards) {
    return "{\"group\":{\"metadata\":{\"name\":\"" + name + "\"},\"catalog\":\"CATALOG_PROPERTY\","
        + "\"resourceOpts\":{\"shardNum\":" + shards + "}}}";
  }

  private static String schema(String group, String name, String... tags) {
    List<String> specs = new ArrayList<>();
    for (String t : tags) {
      specs.add("{\"name\":\"" + t + "\",\"type\":\"TAG_TYPE_STRING\"}");
    }
    return "{\"property\":{\"metadata\":{\"group\":\"" + group + "\",\"name\":\"" + name + "\"},\"tags\":["
        + String.join(",", specs) + "]}}";
  }

  private static String tags(String... kv) {
    List<String> tags = new ArrayList<>();
    for (int i = 0; i < kv.length; i += 2) {
      tags.add("{\"key\":\"" + kv[i] + "\",\"value\":{\"str\":{\"value\":\"" + kv[i + 1] + "\"}}}");
    }
    return "[" + String.join(",", tags) + "]";
  }

  private static List<String> tagValues(JsonNode property) {
    List<String> out = new ArrayList<>();
    for (JsonNode t : property.path("tags")) {
      out.add(t.path("key").asText() + "=" + t.path("value").path("str").path("value").asText());
    }
    return out;
  }

  @Test
  void apiVersion() throws Exception {
    ApiClient.Answer v = api.get("/api/v1/common/api/version");
    assertThat(v.status()).isEqualTo(200);
    assertThat(v.json().path("version").path("version").asText()).isEqualTo("0.9");
    assertThat(v.headers().firstValue("Content-Type")).hasValue("application/json");
  }

  @Test
  void groupAndSchemaLifecycle() throws Exception {
    assertThat(api.post("/api/v1/group/schema", group("gl", 2)).status()).isEqualTo(200);
    ApiClient.Answer again = api.post("/api/v1/group/schema", group("gl", 2));
    assertThat(again.status()).as(again.toString()).isEqualTo(409);
    assertThat(again.code()).isEqualTo(6);
    ApiClient.Answer got = api.get("/api/v1/group/schema/gl");
    assertThat(got.status()).isEqualTo(200);
    assertThat(got.json().path("group").path("resourceOpts").path("shardNum").asInt()).isEqualTo(2);
    assertThat(api.send("HEAD", "/api/v1/group/schema/gl", null).status()).isEqualTo(200);
    assertThat(api.send("HEAD", "/api/v1/group/schema/none", null).status()).isEqualTo(404);
    ApiClient.Answer list = api.get("/api/v1/group/schema/lists");
    assertThat(list.json().path("group").findValuesAsText("name")).contains("gl");

    // The path names the group an update changes, whatever the body says.
    ApiClient.Answer update = api.put("/api/v1/group/schema/gl", group("other", 2).replace("\"shardNum\":2",
        "\"shardNum\":2,\"replicas\":0"));
    assertThat(update.status()).as(update.toString()).isEqualTo(200);
    assertThat(api.get("/api/v1/group/schema/other").status()).isEqualTo(404);

    assertThat(api.post("/api/v1/property/schema", schema("gl", "ui", "name")).status()).isEqualTo(200);
    ApiClient.Answer s = api.get("/api/v1/property/schema/gl/ui");
    assertThat(s.status()).isEqualTo(200);
    assertThat(s.json().path("property").path("tags").findValuesAsText("name")).containsExactly("name");
    ApiClient.Answer su = api.put("/api/v1/property/schema/gl/ui", schema("gl", "ui", "name", "service"));
    assertThat(su.status()).as(su.toString()).isEqualTo(200);
    assertThat(api.get("/api/v1/property/schema/lists/gl").json().path("properties").get(0).path("tags")
        .findValuesAsText("name")).containsExactly("name", "service");
    assertThat(api.get("/api/v1/property/schema/gl/nope").status()).isEqualTo(404);

    ApiClient.Answer sd = api.delete("/api/v1/property/schema/gl/ui");
    assertThat(sd.status()).isEqualTo(200);
    assertThat(sd.json().path("deleted").asBoolean()).isTrue();
    assertThat(api.get("/api/v1/property/schema/gl/ui").status()).isEqualTo(404);

    ApiClient.Answer gd = api.delete("/api/v1/group/schema/gl");
    assertThat(gd.status()).as(gd.toString()).isEqualTo(200);
    assertThat(gd.json().path("deleted").asBoolean()).isTrue();
    ApiClient.Answer gone = api.get("/api/v1/group/schema/gl");
    assertThat(gone.status()).isEqualTo(404);
    assertThat(gone.code()).isEqualTo(5);
    assertThat(gone.message()).contains("gl");
    assertThat(gone.json().path("details").isArray()).isTrue();
  }

  @Test
  void applyQueryAndDeleteProperties() throws Exception {
    assertThat(api.post("/api/v1/group/schema", group("gp", 2)).status()).isEqualTo(200);
    assertThat(api.post("/api/v1/property/schema", schema("gp", "ui", "name", "service")).status()).isEqualTo(200);

    ApiClient.Answer created = api.put("/api/v1/property/data/gp/ui/p1",
        "{\"property\":{\"tags\":" + tags("name", "hello", "service", "a") + "}}");
    assertThat(created.status()).as(created.toString()).isEqualTo(200);
    assertThat(created.json().path("created").asBoolean()).isTrue();
    assertThat(created.json().path("tagsNum").asInt()).isEqualTo(2);

    // Merge (the default): the sent tag replaces its namesake, the others stay.
    ApiClient.Answer merged = api.put("/api/v1/property/data/gp/ui/p1",
        "{\"property\":{\"tags\":" + tags("service", "b") + "}}");
    assertThat(merged.json().path("created").asBoolean()).as("created on update").isFalse();
    JsonNode p1 = byId("gp", "ui", "p1");
    assertThat(tagValues(p1)).containsExactlyInAnyOrder("service=b", "name=hello");
    assertThat(p1.path("metadata").path("group").asText()).isEqualTo("gp");
    assertThat(p1.path("updatedAt").asText()).isNotEmpty();

    ApiClient.Answer replaced = api.put("/api/v1/property/data/gp/ui/p1",
        "{\"property\":{\"tags\":" + tags("name", "only") + "},\"strategy\":\"STRATEGY_REPLACE\"}");
    assertThat(replaced.status()).isEqualTo(200);
    assertThat(tagValues(byId("gp", "ui", "p1"))).containsExactly("name=only");

    assertThat(api.put("/api/v1/property/data/gp/ui/p2", "{\"property\":{\"tags\":" + tags("name", "two",
        "service", "x") + "}}").status()).isEqualTo(200);
    ApiClient.Answer byCriteria = api.post("/api/v1/property/data/query", "{\"groups\":[\"gp\"],\"name\":\"ui\","
        + "\"criteria\":{\"condition\":{\"name\":\"service\",\"op\":\"BINARY_OP_EQ\","
        + "\"value\":{\"str\":{\"value\":\"x\"}}}}}");
    assertThat(byCriteria.status()).as(byCriteria.toString()).isEqualTo(200);
    assertThat(byCriteria.json().path("properties").size()).isEqualTo(1);
    assertThat(byCriteria.json().path("properties").get(0).path("id").asText()).isEqualTo("p2");
    ApiClient.Answer projected = api.post("/api/v1/property/data/query",
        "{\"groups\":[\"gp\"],\"name\":\"ui\",\"ids\":[\"p2\"],\"tagProjection\":[\"service\"]}");
    assertThat(tagValues(projected.json().path("properties").get(0))).containsExactly("service=x");
    ApiClient.Answer limited = api.post("/api/v1/property/data/query", "{\"groups\":[\"gp\"],\"name\":\"ui\",\"limit\":1}");
    assertThat(limited.json().path("properties").size()).isEqualTo(1);

    ApiClient.Answer deleted = api.delete("/api/v1/property/data/gp/ui/p1");
    assertThat(deleted.status()).isEqualTo(200);
    assertThat(deleted.json().path("deleted").asBoolean()).isTrue();
    assertThat(byIdAnswer("gp", "ui", "p1").json().path("properties").size()).isZero();
    // Zero values are printed, as grpc-gateway prints them.
    assertThat(api.delete("/api/v1/property/data/gp/ui/p1").body()).contains("\"deleted\":false");
  }

  @Test
  void failuresCarryTheirGrpcCodeAndHttpStatus() throws Exception {
    ApiClient.Answer unknownGroup = api.put("/api/v1/property/data/nogroup/ui/p1",
        "{\"property\":{\"tags\":" + tags("name", "x") + "}}");
    assertThat(unknownGroup.status()).as(unknownGroup.toString()).isEqualTo(404);
    assertThat(unknownGroup.code()).isEqualTo(5);
    assertThat(unknownGroup.message()).contains("nogroup");

    ApiClient.Answer badJson = api.post("/api/v1/property/data/query", "{\"groups\":[\"gp\"");
    assertThat(badJson.status()).isEqualTo(400);
    assertThat(badJson.code()).isEqualTo(3);
    assertThat(badJson.message()).contains("malformed JSON body for QueryRequest");

    ApiClient.Answer badEnum = api.put("/api/v1/property/data/gp/ui/p1", "{\"strategy\":\"STRATEGY_NONE\"}");
    assertThat(badEnum.status()).isEqualTo(400);
    assertThat(badEnum.message()).contains("STRATEGY_NONE");
    // Fields Arbor's messages lack (BanyanDB has more) are ignored, as grpc-gateway ignores them.
    ApiClient.Answer extraField = api.post("/api/v1/property/data/query",
        "{\"groups\":[\"gp\"],\"name\":\"ui\",\"somethingNewer\":{\"a\":1}}");
    assertThat(extraField.status()).as(extraField.toString()).isEqualTo(200);

    ApiClient.Answer invalid = api.post("/api/v1/property/data/query", "{}");
    assertThat(invalid.status()).as(invalid.toString()).isEqualTo(400);
    assertThat(invalid.code()).isEqualTo(3);

    ApiClient.Answer noRoute = api.get("/api/v1/stream/schema/lists/g");
    assertThat(noRoute.status()).isEqualTo(404);
    assertThat(noRoute.code()).isEqualTo(5);
    assertThat(noRoute.message()).contains("no such route");

    ApiClient.Answer wrongMethod = api.post("/api/v1/common/api/version", "{}");
    assertThat(wrongMethod.status()).isEqualTo(405);
    assertThat(wrongMethod.headers().firstValue("Allow")).hasValue("GET");

    ApiClient.Answer badQuery = api.delete("/api/v1/group/schema/gp?forse=true");
    assertThat(badQuery.status()).isEqualTo(400);
    assertThat(badQuery.message()).contains("forse");

    String huge = "{\"groups\":[\"" + "x".repeat(17 << 20) + "\"]}";
    ApiClient.Answer tooLarge = api.post("/api/v1/property/data/query", huge);
    assertThat(tooLarge.status()).isEqualTo(413);
    assertThat(tooLarge.code()).isEqualTo(8);
  }

  private ApiClient.Answer byIdAnswer(String group, String name, String id) throws Exception {
    return api.post("/api/v1/property/data/query",
        "{\"groups\":[\"" + group + "\"],\"name\":\"" + name + "\",\"ids\":[\"" + id + "\"]}");
  }

  private JsonNode byId(String group, String name, String id) throws Exception {
    ApiClient.Answer a = byIdAnswer(group, name, id);
    assertThat(a.status()).as(a.toString()).isEqualTo(200);
    assertThat(a.json().path("properties").size()).isEqualTo(1);
    return a.json().path("properties").get(0);
  }
}
