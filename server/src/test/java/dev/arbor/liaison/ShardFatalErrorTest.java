package dev.arbor.liaison;

import static dev.arbor.liaison.ApiTestSupport.property;
import static dev.arbor.liaison.ApiTestSupport.spec;
import static dev.arbor.liaison.ApiTestSupport.str;
import static dev.arbor.liaison.ApiTestSupport.tag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.property.EntityKey;
import dev.arbor.property.ShardRouter;
import dev.arbor.testing.SmallDisk;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.MessageLimits;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real fatal Lucene error in one shard: the index directory of shard 1 of group g is a 1 MiB
 * tmpfs (mounting needs root, which CI and the developer machines have; elsewhere the test is
 * skipped with that reason) while the WAL and every other shard sit on a disk with room. Writes
 * fill the shard's in-memory buffer until Lucene flushes it and the flush hits the full disk: the
 * writer's tragic event. The write that hit it answers that its outcome is unknown; from then on
 * every read and write of that shard answers UNAVAILABLE naming group and shard, while shard 0 and
 * other groups keep serving; /health says why; a restart on a disk with room recovers the shard
 * from the WAL with every acknowledged write.
 */
class ShardFatalErrorTest {
  @TempDir Path work;
  private SmallDisk disk;

  @AfterEach
  void unmount() throws Exception {
    if (disk != null) {
      disk.close();
    }
  }

  /** Ids of keys of group g, schema s, that live in {@code shard} of 2. */
  private static List<String> idsOfShard(int shard, int n) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; ids.size() < n; i++) {
      if (ShardRouter.shardOf(new EntityKey("g", "s", "p" + i), 2) == shard) {
        ids.add("p" + i);
      }
    }
    return ids;
  }

  @Test
  void aFatalIndexErrorTakesOnlyThatShardOutOfServiceUntilARestart() throws Exception {
    Path dir = work.resolve("node");
    List<String> shard0 = idsOfShard(0, 3);
    List<String> shard1 = idsOfShard(1, 400);
    List<String> acked = new ArrayList<>();
    StatusRuntimeException fatal = null;
    String big = "x".repeat(200_000);
    try (ApiTestSupport.Fixture api = ApiTestSupport.Fixture.start(dir)) {
      api.createGroup("g", 2);
      api.createSchema("g", "s", spec("v", TagType.TAG_TYPE_STRING));
      api.createGroup("h", 1);
      api.createSchema("h", "s", spec("v", TagType.TAG_TYPE_STRING));
      api.apply(property("g", "s", shard0.get(0), tag("v", str("before"))));
      acked.add(shard0.get(0));
      Path shardDir = Files.createDirectories(dir.resolve("data/g/shard-1"));
      disk = SmallDisk.mount(shardDir, "1m");

      // Lucene buffers 32 MiB in memory before it flushes: the write that fills it hits the full disk.
      for (String id : shard1) {
        try {
          api.apply(property("g", "s", id, tag("v", str(big + id))));
          acked.add(id);
        } catch (StatusRuntimeException e) {
          fatal = e;
          break;
        }
      }
      assertThat(fatal).as("the flush fills the 1 MiB disk").isNotNull();
      assertThat(fatal.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
      assertThat(fatal.getStatus().getDescription())
          .contains("reached the write-ahead log").contains("shard 1 of group g").contains("outcome is unknown");

      // Every read and write of shard 1 is refused, naming it and the way back.
      for (Runnable call : List.<Runnable>of(
          () -> api.apply(property("g", "s", shard1.get(0), tag("v", str("merge onto a lost read")))),
          () -> api.apply(property("g", "s", shard1.get(shard1.size() - 1), tag("v", str("new")))),
          () -> api.query(ApiTestSupport.query("s", "g")),
          () -> api.query(ApiTestSupport.query("s", "g").addIds(shard1.get(0))))) {
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call::run);
        assertThat(e).isNotNull();
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(e.getStatus().getDescription()).contains("shard 1 of group g is out of service")
            .contains("restarting the node recovers the shard from the write-ahead log");
      }
      // Other shards and groups keep serving.
      api.apply(property("g", "s", shard0.get(1), tag("v", str("still served"))));
      acked.add(shard0.get(1));
      api.apply(property("h", "s", "q", tag("v", str("other group"))));
      assertThat(api.query(ApiTestSupport.query("s", "h"))).extracting(Property::getId).containsExactly("q");

      HttpResponse<String> health = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.server.httpPort() + "/health"))
              .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).isEqualTo(503);
      assertThat(health.body()).contains("shard g/1 stopped after a fatal index error")
          .contains("No space left on device");
      // The readiness checks say the same: the standard gRPC health service and /api/healthz.
      HttpResponse<String> healthz = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.server.httpPort() + "/api/healthz"))
              .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(healthz.statusCode()).isEqualTo(503);
      assertThat(healthz.body()).contains("\"NOT_SERVING\"").contains("shard g/1 stopped after a fatal index error");
      io.grpc.ManagedChannel ch = ChannelFactory.plaintext()
          .open("127.0.0.1:" + api.server.grpcPort(), MessageLimits.MAX_MESSAGE_BYTES);
      try {
        assertThat(io.grpc.health.v1.HealthGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
            .check(io.grpc.health.v1.HealthCheckRequest.getDefaultInstance()).getStatus())
            .isEqualTo(io.grpc.health.v1.HealthCheckResponse.ServingStatus.NOT_SERVING);
      } finally {
        ch.shutdownNow();
      }
    }
    // The operator moves the data to a disk with room and restarts.
    Path moved = work.resolve("moved");
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.toList()) {
        Path t = moved.resolve(dir.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else if (!p.getFileName().toString().equals("arbor.lock")) {
          Files.copy(p, t);
        }
      }
    }
    try (ApiTestSupport.Fixture api = ApiTestSupport.Fixture.start(ApiTestSupport.config(moved))) {
      List<String> found = api.query(ApiTestSupport.query("s", "g").setLimit(1000)).stream()
          .map(Property::getId).toList();
      assertThat(found).containsAll(acked);
      api.apply(property("g", "s", shard1.get(0), tag("v", str("served again"))));
    }
  }
}
