package dev.arbor.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.arbor.server.ServerConfig;
import dev.arbor.server.StandaloneServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The {@code arbor group|schema|property} client commands against a real standalone server
 * started in-process. Commands run through {@link ArborCli#newCommandLine()} exactly as from the
 * shell; assertions read the printed JSON.
 */
class ClientCommandsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dataDir;

  private static StandaloneServer server;
  private static String target;

  /** Each test works in groups of its own, so tests never see each other's data. */
  private final AtomicInteger groupSeq = new AtomicInteger();

  @BeforeAll
  static void startServer() throws IOException {
    server =
        StandaloneServer.start(
            ServerConfig.defaults(dataDir.resolve("server")).withHost("127.0.0.1").withPorts(0, 0));
    target = "127.0.0.1:" + server.grpcPort();
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  // ---- groups --------------------------------------------------------------------------------

  @Test
  void groupCreateGetListDelete() throws IOException {
    String g = uniqueGroup("grp");
    Run created = ok("group", "create", "--name", g, "--shards", "2", "--replicas", "1");
    assertThat(created.json().has("modRevision")).isTrue();

    JsonNode group = ok("group", "get", "--name", g).json();
    assertThat(group.at("/metadata/name").asText()).isEqualTo(g);
    assertThat(group.at("/catalog").asText()).isEqualTo("CATALOG_PROPERTY");
    assertThat(group.at("/resourceOpts/shardNum").asInt()).isEqualTo(2);
    assertThat(group.at("/resourceOpts/replicas").asInt()).isEqualTo(1);

    assertThat(names(ok("group", "list").json().get("groups"), "/metadata/name")).contains(g);

    assertThat(ok("group", "delete", "--name", g).json().get("deleted").asBoolean()).isTrue();
    Run gone = run("group", "get", "--name", g);
    assertThat(gone.exit).isEqualTo(1);
    assertThat(gone.err).startsWith("error: NOT_FOUND");
    assertOneLine(gone.err);
  }

  @Test
  void groupCreateFromJsonDefaultsToPropertyCatalog() throws IOException {
    String g = uniqueGroup("jgrp");
    ok("group", "create", "--json",
        "{\"metadata\":{\"name\":\"" + g + "\"},\"resourceOpts\":{\"shardNum\":3}}");
    JsonNode group = ok("group", "get", "--name", g, "--compact").json();
    assertThat(group.at("/catalog").asText()).isEqualTo("CATALOG_PROPERTY");
    assertThat(group.at("/resourceOpts/shardNum").asInt()).isEqualTo(3);
  }

  @Test
  void duplicateGroupIsAlreadyExists() {
    String g = uniqueGroup("dup");
    ok("group", "create", "--name", g, "--shards", "1");
    Run again = run("group", "create", "--name", g, "--shards", "1");
    assertThat(again.exit).isEqualTo(1);
    assertThat(again.err).startsWith("error: ALREADY_EXISTS");
    assertOneLine(again.err);
  }

  // ---- schemas -------------------------------------------------------------------------------

  @Test
  void schemaCreateGetListDelete() throws IOException {
    String g = groupWithShards(1);
    ok("schema", "create", "--group", g, "--name", "ui",
        "--tag", "title:string", "--tag", "views:INT", "--tag", "labels:TAG_TYPE_STRING_ARRAY",
        "--tag", "blob:binary");

    JsonNode schema = ok("schema", "get", "--group", g, "--name", "ui").json();
    assertThat(schema.at("/metadata/group").asText()).isEqualTo(g);
    assertThat(names(schema.get("tags"), "/name")).containsExactly("title", "views", "labels", "blob");
    assertThat(names(schema.get("tags"), "/type"))
        .containsExactly(
            "TAG_TYPE_STRING", "TAG_TYPE_INT", "TAG_TYPE_STRING_ARRAY", "TAG_TYPE_DATA_BINARY");

    assertThat(names(ok("schema", "list", "--group", g).json().get("schemas"), "/metadata/name"))
        .containsExactly("ui");

    assertThat(ok("schema", "delete", "--group", g, "--name", "ui").json().get("deleted").asBoolean())
        .isTrue();
    Run gone = run("schema", "get", "--group", g, "--name", "ui");
    assertThat(gone.exit).isEqualTo(1);
    assertThat(gone.err).startsWith("error: NOT_FOUND");
  }

  @Test
  void schemaCreateFromFile() throws IOException {
    String g = groupWithShards(1);
    Path file = dataDir.resolve("schema-" + g + ".json");
    Files.writeString(file,
        "{\"metadata\":{\"group\":\"" + g + "\",\"name\":\"svc\"},"
            + "\"tags\":[{\"name\":\"host\",\"type\":\"TAG_TYPE_STRING\"}]}");
    ok("schema", "create", "--file", file.toString());
    JsonNode schema = ok("schema", "get", "--group", g, "--name", "svc").json();
    assertThat(schema.at("/tags/0/name").asText()).isEqualTo("host");
  }

  // ---- properties ----------------------------------------------------------------------------

  @Test
  void applyJsonThenGetReturnsTheTags() throws IOException {
    String g = groupWithSchema();
    JsonNode applied =
        ok("property", "apply", "--json", property(g, "home", "\"title\":\"Home\"", "\"views\":7"))
            .json();
    assertThat(applied.get("created").asBoolean()).isTrue();
    assertThat(applied.get("tagsNum").asInt()).isEqualTo(2);

    JsonNode p = ok("property", "get", "--group", g, "--name", "ui", "--id", "home").json();
    assertThat(p.at("/metadata/group").asText()).isEqualTo(g);
    assertThat(p.at("/metadata/name").asText()).isEqualTo("ui");
    assertThat(p.at("/id").asText()).isEqualTo("home");
    assertThat(tag(p, "title").at("/str/value").asText()).isEqualTo("Home");
    assertThat(tag(p, "views").at("/int/value").asLong()).isEqualTo(7L);

    JsonNode again =
        ok("property", "apply", "--json", property(g, "home", "\"title\":\"Home 2\"")).json();
    assertThat(again.get("created").asBoolean()).isFalse();
  }

  @Test
  void applyFromOptions() throws IOException {
    String g = groupWithSchema();
    JsonNode applied =
        ok("property", "apply", "--group", g, "--name", "ui", "--id", "about",
            "--tag", "title=About us", "--tag", "views:int=42", "--tag", "labels:string_array=a,b")
            .json();
    assertThat(applied.get("tagsNum").asInt()).isEqualTo(3);

    JsonNode p = ok("property", "get", "--group", g, "--name", "ui", "--id", "about").json();
    assertThat(tag(p, "title").at("/str/value").asText()).isEqualTo("About us");
    assertThat(tag(p, "views").at("/int/value").asLong()).isEqualTo(42L);
    assertThat(names(tag(p, "labels").at("/strArray/value"), "")).containsExactly("a", "b");
  }

  @Test
  void applyFromStdin() throws IOException {
    String g = groupWithSchema();
    InputStream saved = System.in;
    try {
      System.setIn(new ByteArrayInputStream(
          property(g, "stdin", "\"title\":\"From stdin\"").getBytes(StandardCharsets.UTF_8)));
      ok("property", "apply", "-");
    } finally {
      System.setIn(saved);
    }
    JsonNode p = ok("property", "get", "--group", g, "--name", "ui", "--id", "stdin").json();
    assertThat(tag(p, "title").at("/str/value").asText()).isEqualTo("From stdin");
  }

  @Test
  void mergeKeepsUnsentTagsAndReplaceDropsThem() throws IOException {
    String g = groupWithSchema();
    ok("property", "apply", "--json", property(g, "p", "\"title\":\"T1\"", "\"views\":1"));

    ok("property", "apply", "--strategy", "merge", "--json", property(g, "p", "\"title\":\"T2\""));
    JsonNode merged = ok("property", "get", "--group", g, "--name", "ui", "--id", "p").json();
    assertThat(tag(merged, "title").at("/str/value").asText()).isEqualTo("T2");
    assertThat(tag(merged, "views").at("/int/value").asLong()).isEqualTo(1L);

    JsonNode replacedResp =
        ok("property", "apply", "--strategy", "REPLACE", "--json", property(g, "p", "\"views\":9"))
            .json();
    assertThat(replacedResp.get("tagsNum").asInt()).isEqualTo(1);
    JsonNode replaced = ok("property", "get", "--group", g, "--name", "ui", "--id", "p").json();
    assertThat(names(replaced.get("tags"), "/key")).containsExactly("views");
    assertThat(tag(replaced, "views").at("/int/value").asLong()).isEqualTo(9L);
  }

  @Test
  void queryByIdsLimitAndProjection() throws IOException {
    String g = groupWithSchema();
    for (String id : List.of("a", "b", "c")) {
      ok("property", "apply", "--json", property(g, id, "\"title\":\"T-" + id + "\"", "\"views\":1"));
    }
    JsonNode byIds =
        ok("property", "query", "--group", g, "--name", "ui", "--id", "a", "--id", "c").json();
    assertThat(names(byIds.get("properties"), "/id")).containsExactlyInAnyOrder("a", "c");

    JsonNode all = ok("property", "query", "--group", g, "--name", "ui").json();
    assertThat(all.get("properties")).hasSize(3);

    JsonNode limited = ok("property", "query", "--group", g, "--limit", "1").json();
    assertThat(limited.get("properties")).hasSize(1);

    JsonNode projected =
        ok("property", "query", "--group", g, "--name", "ui", "--id", "b", "--projection", "title")
            .json();
    assertThat(names(projected.at("/properties/0/tags"), "/key")).containsExactly("title");

    JsonNode none = ok("property", "query", "--group", g, "--name", "ui", "--id", "zzz").json();
    assertThat(none.get("properties")).isEmpty();
  }

  @Test
  void queryFromJsonAndByCriteria() throws IOException {
    String g = groupWithSchema();
    ok("property", "apply", "--json", property(g, "x", "\"title\":\"X\""));
    ok("property", "apply", "--json", property(g, "y", "\"title\":\"Y\""));

    JsonNode fromJson =
        ok("property", "query", "--json",
            "{\"groups\":[\"" + g + "\"],\"name\":\"ui\",\"ids\":[\"y\"]}").json();
    assertThat(names(fromJson.get("properties"), "/id")).containsExactly("y");

    JsonNode byCriteria =
        ok("property", "query", "--group", g, "--name", "ui", "--criteria",
            "{\"condition\":{\"name\":\"title\",\"op\":\"BINARY_OP_EQ\","
                + "\"value\":{\"str\":{\"value\":\"X\"}}}}").json();
    assertThat(names(byCriteria.get("properties"), "/id")).containsExactly("x");
  }

  @Test
  void queryOrderedByTag() throws IOException {
    String g = groupWithSchema();
    ok("property", "apply", "--group", g, "--name", "ui", "--id", "mid", "--tag", "views:int=5");
    ok("property", "apply", "--group", g, "--name", "ui", "--id", "low", "--tag", "views:int=1");
    ok("property", "apply", "--group", g, "--name", "ui", "--id", "high", "--tag", "views:int=9");
    JsonNode desc = ok("property", "query", "--group", g, "--order-by", "views:desc").json();
    assertThat(names(desc.get("properties"), "/id")).containsExactly("high", "mid", "low");
    JsonNode asc = ok("property", "query", "--group", g, "--order-by", "views").json();
    assertThat(names(asc.get("properties"), "/id")).containsExactly("low", "mid", "high");
  }

  @Test
  void deleteThenGetIsNotFound() throws IOException {
    String g = groupWithSchema();
    ok("property", "apply", "--json", property(g, "gone", "\"title\":\"bye\""));

    JsonNode deleted = ok("property", "delete", "--group", g, "--name", "ui", "--id", "gone").json();
    assertThat(deleted.get("deleted").asBoolean()).isTrue();

    Run get = run("property", "get", "--group", g, "--name", "ui", "--id", "gone");
    assertThat(get.exit).isEqualTo(1);
    assertThat(get.out).isEmpty();
    assertThat(get.err).isEqualTo("error: NOT_FOUND: property " + g + "/ui/gone not found\n");

    JsonNode again = ok("property", "delete", "--group", g, "--name", "ui", "--id", "gone").json();
    assertThat(again.get("deleted").asBoolean()).isFalse();
  }

  @Test
  void deleteWithoutIdDeletesEveryId() throws IOException {
    String g = groupWithSchema();
    ok("property", "apply", "--json", property(g, "one", "\"title\":\"1\""));
    ok("property", "apply", "--json", property(g, "two", "\"title\":\"2\""));
    assertThat(ok("property", "delete", "--group", g, "--name", "ui").json().get("deleted").asBoolean())
        .isTrue();
    assertThat(ok("property", "query", "--group", g, "--name", "ui").json().get("properties"))
        .isEmpty();
  }

  @Test
  void compactOutputIsOneLine() throws IOException {
    String g = groupWithSchema();
    ok("property", "apply", "--json", property(g, "c", "\"title\":\"C\""));
    Run r = ok("property", "query", "--group", g, "--compact");
    assertThat(r.out.strip()).doesNotContain("\n");
    assertThat(r.json().at("/properties/0/id").asText()).isEqualTo("c");
  }

  // ---- failures ------------------------------------------------------------------------------

  @Test
  void badJsonIsOneReadableLine() {
    for (String bad : List.of("{\"metadata\":{\"group\":", "{\"idd\":\"x\"}", "[1,2]")) {
      Run r = run("property", "apply", "--json", bad);
      assertThat(r.exit).as(bad).isNotZero();
      assertThat(r.err).as(bad).startsWith("error: invalid JSON for property: ");
      assertOneLine(r.err);
    }
  }

  @Test
  void serverRejectionIsOneLine() {
    // The schema does not exist: the server's error reaches the user as one line.
    String g = groupWithShards(1);
    Run r = run("property", "apply", "--json", property(g, "x", "\"title\":\"X\""));
    assertThat(r.exit).isEqualTo(1);
    assertThat(r.err).matches("error: [A-Z_]+(: .*)?\\n");
  }

  @Test
  void unreachableTargetIsUnavailable() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort(); // closed again: nothing listens there
    }
    Run r = runAt("127.0.0.1:" + port, "group", "list");
    assertThat(r.exit).isEqualTo(1);
    assertThat(r.err).startsWith("error: UNAVAILABLE: cannot reach 127.0.0.1:" + port);
    assertOneLine(r.err);
  }

  @Test
  void silentServerHitsTheDeadline() throws IOException {
    // The kernel accepts the TCP connection into the backlog, but nothing ever speaks HTTP/2.
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      String at = "127.0.0.1:" + silent.getLocalPort();
      Run r = runAt(at, "group", "list", "--timeout", "300ms");
      assertThat(r.exit).isEqualTo(1);
      assertThat(r.err)
          .isEqualTo("error: DEADLINE_EXCEEDED: no answer from " + at + " within 300ms (see --timeout)\n");
    }
  }

  // ---- helpers -------------------------------------------------------------------------------

  private record Run(int exit, String out, String err) {
    JsonNode json() throws IOException {
      return JSON.readTree(out);
    }
  }

  private String uniqueGroup(String prefix) {
    return prefix + "-" + Integer.toHexString(System.identityHashCode(this)) + "-"
        + groupSeq.incrementAndGet();
  }

  private String groupWithShards(int shards) {
    String g = uniqueGroup("g");
    ok("group", "create", "--name", g, "--shards", Integer.toString(shards));
    return g;
  }

  /** A fresh group holding schema "ui" (title string, views int, labels string array). */
  private String groupWithSchema() {
    String g = groupWithShards(2);
    ok("schema", "create", "--group", g, "--name", "ui",
        "--tag", "title:string", "--tag", "views:int", "--tag", "labels:string_array");
    return g;
  }

  /** A property.v1.Property JSON; each tag is {@code "key":<str or int JSON literal>}. */
  private static String property(String group, String id, String... tags) {
    List<String> rendered = new ArrayList<>();
    for (String t : tags) {
      int colon = t.indexOf(':');
      String key = t.substring(0, colon);
      String literal = t.substring(colon + 1);
      String value = literal.startsWith("\"")
          ? "{\"str\":{\"value\":" + literal + "}}"
          : "{\"int\":{\"value\":\"" + literal + "\"}}";
      rendered.add("{\"key\":" + key + ",\"value\":" + value + "}");
    }
    return "{\"metadata\":{\"group\":\"" + group + "\",\"name\":\"ui\"},\"id\":\"" + id
        + "\",\"tags\":[" + String.join(",", rendered) + "]}";
  }

  private static JsonNode tag(JsonNode property, String key) {
    for (JsonNode t : property.get("tags")) {
      if (t.get("key").asText().equals(key)) {
        return t.get("value");
      }
    }
    throw new AssertionError("no tag " + key + " in " + property);
  }

  private static List<String> names(JsonNode array, String pointer) {
    List<String> out = new ArrayList<>();
    if (array != null) {
      array.forEach(n -> out.add(n.at(pointer).asText()));
    }
    return out;
  }

  private static void assertOneLine(String err) {
    assertThat(err).endsWith("\n");
    assertThat(err.strip()).doesNotContain("\n").doesNotContain("Exception").doesNotContain("at dev.");
  }

  private Run ok(String... args) {
    Run r = run(args);
    assertThat(r.exit).as("exit of %s; stderr: %s", Arrays.toString(args), r.err).isZero();
    return r;
  }

  private static Run run(String... args) {
    return runAt(target, args);
  }

  private static Run runAt(String at, String... args) {
    String[] full = Arrays.copyOf(args, args.length + 2);
    full[args.length] = "--target";
    full[args.length + 1] = at;
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = ArborCli.newCommandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int exit = cl.execute(full);
    return new Run(exit, out.toString(), err.toString());
  }
}
