package dev.arbor.liaison;

import static dev.arbor.liaison.ApiTestSupport.property;
import static dev.arbor.liaison.ApiTestSupport.spec;
import static dev.arbor.liaison.ApiTestSupport.str;
import static dev.arbor.liaison.ApiTestSupport.tag;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.property.v1.Property;
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
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import dev.arbor.testing.SmallDisk;

/**
 * A real full disk: the data directory on a 4 MiB tmpfs (mounting needs root, which CI and the
 * developer machines have; elsewhere the test is skipped with that reason). Writes until the disk
 * refuses one: that write fails with a status saying its outcome is unknown, the node refuses
 * further writes and says why on {@code /health}, and once the data is moved to a disk with room
 * every acknowledged write is there.
 */
class DiskFullTest {
  @TempDir Path work;
  private SmallDisk disk;

  @AfterEach
  void unmount() throws Exception {
    if (disk != null) {
      disk.close();
    }
  }

  @Test
  void aFullDiskFailsTheWriteLoudlyAndLosesNothingAcknowledged() throws Exception {
    Path dir = Files.createDirectories(work.resolve("small"));
    disk = SmallDisk.mount(dir, "4m");
    List<String> acked = new ArrayList<>();
    StatusRuntimeException failure = null;
    String big = "x".repeat(60_000);
    try (ApiTestSupport.Fixture api =
        ApiTestSupport.Fixture.start(ApiTestSupport.config(dir).withMaxDiskUsagePercent(100))) {
      api.createGroup("g", 1);
      api.createSchema("g", "s", spec("v", TagType.TAG_TYPE_STRING));
      for (int i = 0; i < 1000 && failure == null; i++) {
        try {
          api.apply(property("g", "s", "p" + i, tag("v", str(big + i))));
          acked.add("p" + i);
        } catch (StatusRuntimeException e) {
          failure = e;
        }
      }
      assertThat(failure).as("a 4 MiB disk fills up").isNotNull();
      assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
      // Whichever hit the full disk first: the WAL (a storage failure) or a Lucene flush after the WAL fsync.
      assertThat(failure.getStatus().getDescription())
          .containsPattern("storage failure|reached the write-ahead log").contains("outcome is unknown");
      assertThat(acked).isNotEmpty();

      HttpResponse<String> health = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.server.httpPort() + "/health"))
              .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).isEqualTo(503);
      // Whichever hit the full disk first, the WAL or a Lucene flush, is named.
      assertThat(health.body()).containsPattern("write-ahead log refuses writes|stopped after a fatal index error")
          .contains("No space left on device");
      StatusRuntimeException next = org.assertj.core.api.Assertions.catchThrowableOfType(StatusRuntimeException.class,
          () -> api.apply(property("g", "s", "later", tag("v", str("small")))));
      assertThat(next).as("writes stay refused until a restart").isNotNull();
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
      api.apply(property("g", "s", "after", tag("v", str("room again"))));
    }
  }
}
