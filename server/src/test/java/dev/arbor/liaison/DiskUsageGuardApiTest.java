package dev.arbor.liaison;

import static dev.arbor.liaison.ApiTestSupport.assertStatus;
import static dev.arbor.liaison.ApiTestSupport.property;
import static dev.arbor.liaison.ApiTestSupport.spec;
import static dev.arbor.liaison.ApiTestSupport.str;
import static dev.arbor.liaison.ApiTestSupport.tag;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.property.v1.DeleteRequest;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.storage.DiskUsageGuard;
import io.grpc.Status;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Above --max-disk-usage-percent, writes are refused before anything is logged, with the figure;
 * reads go on and nothing already stored is touched. The limit is set below the real usage of the
 * file system the test runs on (measured, not simulated), so the guard trips for real.
 */
class DiskUsageGuardApiTest {
  @TempDir Path dataDir;

  @Test
  void writesAreRefusedAboveTheLimitAndReadsGoOn() throws Exception {
    double used = new DiskUsageGuard(dataDir, 100, System::nanoTime).usedPercent();
    assertThat(used).as("this test needs a file system more than 1%% used").isGreaterThan(1.0);

    try (ApiTestSupport.Fixture api = ApiTestSupport.Fixture.start(ApiTestSupport.config(dataDir))) {
      api.createGroup("g", 1);
      api.createSchema("g", "s", spec("v", TagType.TAG_TYPE_STRING));
      api.apply(property("g", "s", "kept", tag("v", str("before"))));
    }
    try (ApiTestSupport.Fixture api =
        ApiTestSupport.Fixture.start(ApiTestSupport.config(dataDir).withMaxDiskUsagePercent(1))) {
      assertStatus(() -> api.apply(property("g", "s", "new", tag("v", str("x")))),
          Status.Code.RESOURCE_EXHAUSTED, "--max-disk-usage-percent 1", "% full");
      assertStatus(() -> api.properties.delete(DeleteRequest.newBuilder().setGroup("g").setName("s").setId("kept").build()),
          Status.Code.RESOURCE_EXHAUSTED, "--max-disk-usage-percent");
      assertThat(api.query(ApiTestSupport.query("s", "g"))).extracting(Property::getId).containsExactly("kept");
    }
    try (ApiTestSupport.Fixture api = ApiTestSupport.Fixture.start(ApiTestSupport.config(dataDir))) {
      assertThat(api.query(ApiTestSupport.query("s", "g"))).extracting(Property::getId).containsExactly("kept");
      api.apply(property("g", "s", "new", tag("v", str("x"))));
      assertThat(api.query(ApiTestSupport.query("s", "g"))).hasSize(2);
    }
  }
}
