package dev.arbor.liaison;

import static dev.arbor.liaison.ApiTestSupport.property;
import static dev.arbor.liaison.ApiTestSupport.query;
import static dev.arbor.liaison.ApiTestSupport.spec;
import static dev.arbor.liaison.ApiTestSupport.str;
import static dev.arbor.liaison.ApiTestSupport.tag;
import static dev.arbor.liaison.TraceSpans.intTag;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.util.JsonFormat;
import dev.arbor.api.banyandb.common.v1.Span;
import dev.arbor.api.banyandb.common.v1.Trace;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.property.v1.QueryResponse;
import dev.arbor.http.ApiClient;
import java.nio.file.Path;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code QueryRequest.trace} on a standalone server: the root span nests one span per shard
 * searched, with the shard's match and hit counts, over gRPC and over the HTTP API.
 */
class StandaloneQueryTraceTest {
  private static final int SHARDS = 3;
  private static final int PROPERTIES = 20;

  @TempDir Path dir;
  private ApiTestSupport.Fixture api;
  private String group;

  @BeforeEach
  void start() throws Exception {
    api = ApiTestSupport.Fixture.start(dir);
    group = ApiTestSupport.unique("traced");
    api.createGroup(group, SHARDS);
    api.createSchema(group, "t", spec("title", TagType.TAG_TYPE_STRING));
    for (int i = 0; i < PROPERTIES; i++) {
      api.apply(property(group, "t", "p" + i, tag("title", str("t" + i))));
    }
  }

  @AfterEach
  void stop() throws Exception {
    api.close();
  }

  @Test
  void aTracedQueryNestsOneSpanPerShardSearch() {
    QueryResponse r = api.properties.query(query("t", group).setTrace(true).build());
    assertThat(r.getPropertiesCount()).isEqualTo(PROPERTIES);
    assertStandaloneTrace(r.getTrace(), PROPERTIES);
  }

  @Test
  void aQueryByIdCountsItsOneHitOnTheShardThatHoldsIt() {
    QueryResponse r = api.properties.query(query("t", group).addIds("p7").setTrace(true).build());
    assertThat(r.getPropertiesCount()).isEqualTo(1);
    Span root = r.getTrace().getSpans(0);
    assertThat(root.getChildrenList()).filteredOn(s -> intTag(s, "hits") == 1).hasSize(1);
    assertThat(root.getChildrenList()).filteredOn(s -> intTag(s, "hits") == 0).hasSize(SHARDS - 1);
  }

  @Test
  void anUntracedQueryCarriesNoTrace() {
    assertThat(api.properties.query(query("t", group).build()).hasTrace()).isFalse();
  }

  @Test
  void theHttpRouteReturnsTheSameTree() throws Exception {
    ApiClient http = new ApiClient("http://127.0.0.1:" + api.server.httpPort());
    ApiClient.Answer a = http.post("/api/v1/property/data/query",
        "{\"groups\":[\"" + group + "\"],\"name\":\"t\",\"trace\":true}");
    assertThat(a.status()).as(a.toString()).isEqualTo(200);
    JsonNode trace = a.json().path("trace");
    assertThat(trace.path("spans").get(0).path("children")).hasSize(SHARDS);
    // The JSON is protobuf's mapping of the same message: parse it back and check it alike.
    Trace.Builder parsed = Trace.newBuilder();
    JsonFormat.parser().merge(trace.toString(), parsed);
    assertStandaloneTrace(parsed.build(), PROPERTIES);
  }

  private void assertStandaloneTrace(Trace trace, int results) {
    assertThat(trace.getTraceId()).isNotEmpty();
    assertThat(trace.getSpansList()).hasSize(1);
    Span root = trace.getSpans(0);
    assertThat(root.getMessage()).startsWith("query");
    assertThat(TraceSpans.tag(root, "role")).isEqualTo("standalone");
    assertThat(intTag(root, "results")).isEqualTo(results);
    assertThat(intTag(root, "shards")).isEqualTo(SHARDS);
    assertThat(root.getDuration()).isPositive();
    assertThat(root.getChildrenList()).extracting(Span::getMessage)
        .containsExactlyInAnyOrderElementsOf(IntStream.range(0, SHARDS).mapToObj(s -> "shard search " + group + "/" + s)
            .toList());
    for (Span shard : root.getChildrenList()) {
      assertThat(TraceSpans.tag(shard, "group")).isEqualTo(group);
      // Below the limit every match is returned: the shard's count and its hits agree.
      assertThat(TraceSpans.tag(shard, "matched")).isEqualTo(TraceSpans.tag(shard, "hits"));
      assertThat(intTag(shard, "rounds")).isEqualTo(1);
      assertThat(shard.getChildrenList()).isEmpty();
    }
    assertThat(root.getChildrenList().stream().mapToInt(s -> intTag(s, "hits")).sum()).isEqualTo(results);
    TraceSpans.sequentialChildrenWithinDuration(root);
    TraceSpans.childrenWithinTimes(root);
  }
}
