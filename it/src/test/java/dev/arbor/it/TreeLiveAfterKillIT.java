package dev.arbor.it;

import static dev.arbor.it.Props.property;
import static dev.arbor.it.Props.propertyGroup;
import static dev.arbor.it.Props.schema;
import static dev.arbor.it.Props.str;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;
import org.apache.skywalking.banyandb.database.v1.BanyandbDatabase.TagType;
import org.apache.skywalking.banyandb.v1.client.BanyanDBClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A live repair tree survives {@code kill -9}: the node builds its trees once, takes more writes
 * (new keys and overwrites, acknowledged, so in the WAL), and is killed. After the restart every
 * shard's tree is live again from its journal and the replayed WAL — no build ran (the build
 * counter is 0, an unforced build finds every shard UNCHANGED) — and a forced build from scratch
 * finds no difference (scrub mismatches 0) and the number of properties per shard.
 */
@Timeout(120)
class TreeLiveAfterKillIT {
  static final String G = "treelive";
  static final String NAME = "item";
  static final int SHARDS = 2;
  private static final Pattern SAMPLE =
      Pattern.compile("^(arbor_(?:repair_tree|tree_scrub)_[a-z_]+)(\\{[^}]*\\})?\\s+([0-9.eE+-]+)$");

  private ArborProcess server;
  private BanyanDBClient client;

  @AfterEach
  void cleanUp() throws Exception {
    ArborProcess.closeAll(client, server);
  }

  @Test
  void liveTreesResumeAfterKill9WithoutABuild() throws Exception {
    long seed = Long.getLong("arbor.it.seed", System.nanoTime());
    System.out.printf("[TreeLiveAfterKillIT] seed=%d (rerun with -Darbor.it.seed=%d)%n", seed, seed);
    Random rnd = new Random(seed);
    Path data = ArborProcess.newDataDir("treelive");
    server = ArborProcess.start("treelive-0", data);
    client = server.connectClient();
    client.define(propertyGroup(G, SHARDS));
    client.define(schema(G, NAME, "v", TagType.TAG_TYPE_STRING));
    int keys = 600;
    java.util.Set<Integer> written = new java.util.HashSet<>();
    for (int i = 0; i < keys; i++) {
      written.add(i);
      client.apply(property(G, NAME, "p-" + i, str("v", "first-" + i)));
    }
    Map<String, JsonObject> built = build(false);
    assertThat(built.values()).allSatisfy(o -> assertThat(o.get("outcome").getAsString()).isIn("BUILT", "UNCHANGED"));
    // After the build: new keys and overwrites, only in the WAL and the live trees' overlays.
    int more = 100 + rnd.nextInt(200);
    for (int i = 0; i < more; i++) {
      int k = rnd.nextInt(keys + 150);
      written.add(k);
      client.apply(property(G, NAME, "p-" + k, str("v", "second-" + i)));
    }
    long before = (long) live(server.metrics(SAMPLE));
    assertThat(before).as("trees live before the kill").isEqualTo(SHARDS);
    client.close();
    client = null;
    server.kill9();

    server = ArborProcess.start("treelive-1", data);
    Map<String, Double> m = server.metrics(SAMPLE);
    assertThat(m.get("arbor_repair_tree_resumed_total")).as("trees resumed from their journals\n%s", server.logTail(40))
        .isEqualTo((double) SHARDS);
    assertThat(m.get("arbor_repair_tree_resume_failures_total")).isEqualTo(0.0);
    assertThat(live(m)).as("live after the restart").isEqualTo(SHARDS);
    Map<String, JsonObject> unforced = build(false);
    assertThat(unforced.values()).as("nothing to build: the resumed trees are current")
        .allSatisfy(o -> assertThat(o.get("outcome").getAsString()).isEqualTo("UNCHANGED"));
    assertThat(server.metrics(SAMPLE).get("arbor_repair_tree_builds_finished_total")).as("builds after the restart")
        .isEqualTo(0.0);
    Map<String, JsonObject> scratch = build(true);
    long leaves = 0;
    for (JsonObject o : scratch.values()) {
      assertThat(o.get("outcome").getAsString()).isEqualTo("BUILT");
      leaves += o.get("leafCount").getAsLong();
    }
    assertThat(server.metrics(SAMPLE).get("arbor_tree_scrub_mismatches_total"))
        .as("the from-scratch build equals the resumed tree").isEqualTo(0.0);
    assertThat(leaves).as("leaves of both shards = properties written").isEqualTo(written.size());
    server.stop();
    ArborProcess.deleteDataDir(data);
  }

  private static double live(Map<String, Double> m) {
    return m.getOrDefault("arbor_repair_tree_live", -1.0);
  }

  /** {@code arbor tree build --all} (forced or not): the result per shard. */
  private Map<String, JsonObject> build(boolean force) {
    java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of(
        "tree", "build", "--target", server.grpcTarget(), "--group", G, "--all", "--timeout", "60s"));
    if (force) {
      args.add("--force");
    }
    ArborProcess p = ArborProcess.launchCommand("tree-build", args.toArray(String[]::new));
    assertThat(p.waitFor(Duration.ofSeconds(90))).as("tree build finished").isTrue();
    String out = p.output();
    assertThat(p.process().exitValue()).as("tree build exit code\n%s", out).isZero();
    Map<String, JsonObject> byShard = new LinkedHashMap<>();
    for (JsonElement e : TreeBuildCrashIT.json(out).getAsJsonArray("results")) {
      JsonObject o = e.getAsJsonObject();
      byShard.put(o.has("shard") ? o.get("shard").getAsString() : "0", o);
    }
    assertThat(byShard).as("results\n%s", out).hasSize(SHARDS);
    return byShard;
  }

}
