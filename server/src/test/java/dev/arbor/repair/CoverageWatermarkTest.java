package dev.arbor.repair;

import static dev.arbor.repair.RepairTestCluster.outcome;
import static dev.arbor.repair.RepairTestCluster.record;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.arbor.observability.trace.Tracer;
import dev.arbor.property.PropertyRecord;
import dev.arbor.repair.coverage.CoverageWatermark;
import dev.arbor.repair.coverage.WatermarkStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Coverage watermarks on real data nodes: learned by the ring, kept across restarts, exported. */
class CoverageWatermarkTest {
  @TempDir Path dir;

  private static Path watermarkFile(RepairTestCluster c, String node) {
    return c.dataDir(node).resolve("coverage").resolve("watermarks.txt");
  }

  @Test
  void everyReplicaLearnsTheWatermarkWhichSurvivesARestartAndACorruptFileMeansNone() throws Exception {
    try (RepairTestCluster c = new RepairTestCluster(dir, 3)) {
      c.group("g", 1, 1); // two copies on three nodes: the origin may hold none
      var ring = c.repair("n1", "g", 0).get(0).getNodesList();
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
        for (String n : ring) {
          assertThat(c.nodes.get(n).coverageWatermarks().get("g", 0)).as(n).isPresent();
        }
      });
      String node = ring.get(1);
      CoverageWatermark w = c.nodes.get(node).coverageWatermarks().get("g", 0).orElseThrow();
      assertThat(w.ring()).isEqualTo(ring);
      assertThat(w.roundStartNanos()).isLessThanOrEqualTo(Tracer.nowNanos());

      c.stop(node);
      c.start(node);
      assertThat(c.nodes.get(node).coverageWatermarks().get("g", 0)).as("after a restart").contains(w);

      c.stop(node);
      byte[] bytes = Files.readAllBytes(watermarkFile(c, node));
      bytes[bytes.length / 2] ^= 0x5a; // one flipped byte: the checksum catches it
      Files.write(watermarkFile(c, node), bytes);
      Logger log = (Logger) LoggerFactory.getLogger(WatermarkStore.class);
      ListAppender<ILoggingEvent> logged = new ListAppender<>();
      logged.start();
      log.addAppender(logged);
      try {
        c.start(node);
      } finally {
        log.detachAppender(logged);
      }
      assertThat(c.nodes.get(node).coverageWatermarks().get("g", 0)).as("corrupt file: no watermark").isEmpty();
      assertThat(logged.list).extracting(ILoggingEvent::getFormattedMessage)
          .anySatisfy(m -> assertThat(m).contains("corrupt", watermarkFile(c, node).toString()));

      // The next covering round gives it one again.
      assertThat(outcome(c.repair(node, "g", 0)).getOutcome().getStatus()).isEqualTo("COMPLETED");
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
          .until(() -> c.nodes.get(node).coverageWatermarks().get("g", 0).isPresent());
    }
  }

  @Test
  void withRepairOffReplicatedGroupsKeepTombstonesAndSingleCopyGroupsPurgeOnGrace() throws Exception {
    try (RepairTestCluster c = new RepairTestCluster(dir, 2, "off", Duration.ofSeconds(1))) {
      c.group("rep", 1, 1);
      c.group("single", 1, 0);
      long deleteTime = Tracer.nowNanos() - Duration.ofMinutes(10).toNanos();
      for (String n : List.of("n1", "n2")) {
        c.write(n, 1, List.<PropertyRecord>of(record("rep", "p", 20, deleteTime, "x")));
        c.write(n, 1, List.<PropertyRecord>of(record("single", "p", 20, deleteTime, "x")));
      }
      await("single-copy tombstones purged after the grace").atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            assertThat(c.read("n1", "single", 1, List.of("p"))).isEmpty();
            assertThat(c.read("n2", "single", 1, List.of("p"))).isEmpty();
          });
      await("replicated tombstones kept: no round ever covered the shard").during(Duration.ofSeconds(3))
          .atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            assertThat(c.read("n1", "rep", 1, List.of("p"))).hasSize(1);
            assertThat(c.read("n2", "rep", 1, List.of("p"))).hasSize(1);
          });
    }
  }

  @Test
  void coverageAgeAndOverdueAreExportedPerShard() throws Exception {
    // With a 4 s grace the check runs every 250 ms and a shard is overdue after 3 s.
    try (RepairTestCluster c = new RepairTestCluster(dir, 2, "off", Duration.ofSeconds(4))) {
      c.group("covered", 1, 1);
      c.group("never", 1, 1);
      assertThat(outcome(c.repair("n1", "covered", 0)).getOutcome().getStatus()).isEqualTo("COMPLETED");
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
        String m = metrics(c, "n2");
        assertThat(gauge(m, "arbor_repair_last_success_age_seconds", "covered")).isBetween(0.0, 3.0);
        assertThat(gauge(m, "arbor_repair_coverage_overdue", "covered")).isEqualTo(0.0);
      });
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
        String m = metrics(c, "n1");
        assertThat(gauge(m, "arbor_repair_coverage_overdue", "never")).isEqualTo(1.0);
        assertThat(gauge(m, "arbor_repair_last_success_age_seconds", "never")).isGreaterThan(3.0);
      });
    }
  }

  private static String metrics(RepairTestCluster c, String node) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + c.nodes.get(node).httpPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    return r.body();
  }

  private static double gauge(String metrics, String name, String group) {
    Matcher m = Pattern.compile("(?m)^" + name + "\\{group=\"" + group + "\",shard=\"0\"[^}]*} (\\S+)$")
        .matcher(metrics);
    assertThat(m.find()).as("%s of %s in%n%s", name, group, metrics).isTrue();
    return Double.parseDouble(m.group(1));
  }
}
