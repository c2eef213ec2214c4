package dev.arbor.bench.repair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@code repair --quick} end to end (every scenario on a real etcd + 3 data nodes + liaison
 * cluster of child processes from the shaded server jar) and checks that every scenario converged
 * with the figures its divergence implies, once with the public load and once with
 * {@code --load internal}. Needs {@code server/target/arbor.jar} (system property
 * {@code arbor.jar}, else found from the working directory) and the {@code etcd} binary.
 */
class RepairBenchQuickIT {

  @TempDir Path tmp;

  @Test
  @Timeout(300)
  void quickRunConvergesEveryScenario() throws Exception {
    Path jar = serverJar();
    assumeTrue(Files.isRegularFile(jar),
        "server jar " + jar + " is absent: build it with ./mvnw -B -DskipTests package (module"
            + " server) to run the repair benchmark test");
    Path json = tmp.resolve("repair.json");
    Path doc = tmp.resolve("benchmarks.md");
    Files.writeString(doc, "# Benchmarks\n\nkept text\n");

    RepairBench bench = new RepairBench();
    long t0 = System.nanoTime();
    int code = new picocli.CommandLine(bench).execute("--quick", "--server-jar", jar.toString(),
        "--work-dir", tmp.resolve("work").toString(), "--out", json.toString(),
        "--update-doc", doc.toString());
    double seconds = (System.nanoTime() - t0) / 1e9;
    System.out.printf("[repair-bench-it] --quick took %.1f s%n", seconds);

    checkEveryScenario(bench.results(), "public");
    assertThat(code).isZero();

    JsonNode root = new ObjectMapper().readTree(json.toFile());
    assertThat(root.path("all_converged").asBoolean()).isTrue();
    assertThat(root.path("scenarios")).hasSize(5);
    assertThat(root.path("cluster").path("load").asText()).isEqualTo("public");
    assertThat(root.path("machine").path("nproc").asInt()).isPositive();
    String md = Files.readString(doc);
    assertThat(md).startsWith("# Benchmarks\n\nkept text\n")
        .contains(RepairReport.START, RepairReport.END, RepairReport.ANALYSIS_START, "| one-diff |");
  }

  /**
   * {@code --load internal} (records written straight to the replicas) must cause exactly the
   * divergence of the public load, and the same repair must converge it.
   */
  @Test
  @Timeout(300)
  void quickRunWithInternalLoadConvergesEveryScenario() throws Exception {
    Path jar = serverJar();
    assumeTrue(Files.isRegularFile(jar), "server jar " + jar + " is absent");
    Path json = tmp.resolve("repair-internal.json");
    Path doc = tmp.resolve("benchmarks-internal.md");
    RepairBench bench = new RepairBench();
    long t0 = System.nanoTime();
    int code = new picocli.CommandLine(bench).execute("--quick", "--load", "internal",
        "--load-batch", "300", "--server-jar", jar.toString(),
        "--work-dir", tmp.resolve("work-internal").toString(), "--out", json.toString(),
        "--update-doc", doc.toString());
    System.out.printf("[repair-bench-it] --quick --load internal took %.1f s%n",
        (System.nanoTime() - t0) / 1e9);
    checkEveryScenario(bench.results(), "internal");
    assertThat(code).isZero();
    JsonNode root = new ObjectMapper().readTree(json.toFile());
    assertThat(root.path("all_converged").asBoolean()).isTrue();
    assertThat(root.path("cluster").path("load").asText()).isEqualTo("internal");
    assertThat(root.path("scenarios").get(0).path("load").asText()).isEqualTo("internal");
    assertThat(Files.readString(doc)).contains("via internal API: a setup shortcut; the repair"
        + " measured is the same");
  }

  private static void checkEveryScenario(List<RepairScenarioResult> results, String load) {
    Map<String, RepairScenarioResult> byName = results.stream()
        .collect(Collectors.toMap(RepairScenarioResult::scenario, Function.identity()));
    assertThat(byName).containsOnlyKeys("full", "half", "same", "one-diff", "deletes");
    for (RepairScenarioResult r : results) {
      String what = r.scenario() + ": " + r;
      assertThat(r.error()).as(what).isNull();
      assertThat(r.converged()).as(what).isTrue();
      assertThat(r.treesEqualAfter()).as(what).isTrue();
      assertThat(r.differingAfter()).as(what).isZero();
      assertThat(r.properties()).isEqualTo(2000);
      assertThat(r.sizeBytes()).isEqualTo(256);
      assertThat(r.load()).isEqualTo(load);
      // The divergence is what the scenario meant, and the repair repaired exactly that.
      assertThat(r.divergedBefore()).as(what).isEqualTo(r.expectedDiverged());
      assertThat(r.repaired()).as(what).isEqualTo(r.expectedDiverged());
      assertThat(r.rounds()).as(what).isGreaterThanOrEqualTo(1);
      assertThat(r.hops()).as(what).isGreaterThanOrEqualTo(1);
      assertThat(r.failedHops()).as(what).isZero();
      assertThat(r.wallMillis()).as(what).isPositive();
      assertThat(r.cpuSeconds()).as(what).hasSize(3);
      assertThat(r.cpuSeconds().values()).as(what).allMatch(v -> v >= 0);
      assertThat(r.peakRssBytes().values()).as(what).allMatch(v -> v > 0);
      assertThat(r.replicas()).as(what).hasSize(2).contains(r.victim(), r.trigger());
    }
    assertThat(byName.get("full").expectedDiverged()).isEqualTo(2000);
    assertThat(byName.get("half").expectedDiverged()).isEqualTo(1000);
    assertThat(byName.get("one-diff").expectedDiverged()).isEqualTo(1);
    assertThat(byName.get("deletes").expectedDiverged()).isEqualTo(200);
    assertThat(byName.get("same").expectedDiverged()).isZero();
    assertThat(byName.get("same").treesDifferedBefore()).isFalse();
    assertThat(byName.get("full").treesDifferedBefore()).isTrue();
    // Missing data has to travel: at least the missing bytes, not absurdly more.
    RepairScenarioResult full = byName.get("full");
    assertThat(full.repairBytes()).isGreaterThanOrEqualTo(full.missingBytes() / 2);
    assertThat(full.bytesPerMissingByte()).isLessThan(10);
    // deletes: 2,000 writes, then 200 deletes; one-diff: 2,000 writes, then 1 update.
    assertThat(byName.get("deletes").writes()).isEqualTo(2200);
    assertThat(byName.get("one-diff").writes()).isEqualTo(2001);
  }

  private static Path serverJar() {
    String prop = System.getProperty("arbor.jar");
    if (prop != null && !prop.isBlank()) {
      return Path.of(prop).toAbsolutePath().normalize();
    }
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("server")) && Files.isRegularFile(p.resolve("pom.xml"))
          && Files.isDirectory(p.resolve("bench"))) {
        return p.resolve("server/target/arbor.jar");
      }
    }
    return Path.of("server/target/arbor.jar").toAbsolutePath();
  }
}
