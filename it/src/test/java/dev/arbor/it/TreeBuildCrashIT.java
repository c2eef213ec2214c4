package dev.arbor.it;

import static dev.arbor.it.Props.property;
import static dev.arbor.it.Props.propertyGroup;
import static dev.arbor.it.Props.schema;
import static dev.arbor.it.Props.str;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.skywalking.banyandb.database.v1.BanyandbDatabase.TagType;
import org.apache.skywalking.banyandb.v1.client.BanyanDBClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Repair trees under {@code kill -9}: a server child process holding tens of thousands of
 * properties is killed at a random (seeded) point while it builds its trees (the first build, then
 * twice a rebuild over a valid but stale tree). Each kill must be seen to land inside a build (the
 * dead process left a spill directory or temp file behind); one that missed is retried a bounded
 * number of times. After a restart on the same directory no spill directory or
 * temp file survives, and the tree the node serves — checked with {@code arbor tree inspect} on the
 * files, after the node rebuilt on its own and after a forced {@code arbor tree build} — holds
 * exactly one leaf per property of its shard. Then the tree files are damaged while the node is
 * stopped (truncated; a byte flipped in the middle): the node still starts and rebuilds them.
 * Seed: {@code -Darbor.it.seed=N} reproduces the kill points.
 */
@Timeout(170)
class TreeBuildCrashIT {
  static final String G = "treecrash";
  static final String NAME = "item";
  static final int SHARDS = 2;
  static final int INITIAL = 20_000;
  static final int MORE = 1_000;
  static final int WRITERS = 16;
  /** Kills tried per cycle before giving up on landing one inside a build. */
  static final int KILL_ATTEMPTS = 6;

  private ArborProcess server;
  private BanyanDBClient client;
  private ArborProcess cli;

  @AfterEach
  void cleanUp() throws Exception {
    ArborProcess.closeAll(client, server, cli);
  }

  @Test
  void killDuringTreeBuildsAndDamagedTreeFilesNeverServeABadTree() throws Exception {
    long seed = Long.getLong("arbor.it.seed", System.nanoTime());
    System.out.printf("[TreeBuildCrashIT] seed=%d (rerun with -Darbor.it.seed=%d)%n", seed, seed);
    Random rnd = new Random(seed);
    assertThat(XxHash64.hash(new byte[0])).as("xxHash64 test vector").isEqualTo(0xEF46DB3751D8E999L);
    assertThat(XxHash64.hash("abc".getBytes(StandardCharsets.UTF_8))).isEqualTo(0x44BC2CF5AD770999L);
    Path data = ArborProcess.newDataDir("treecrash");
    int[] perShard = new int[SHARDS];

    server = ArborProcess.start("tree-0", data);
    client = server.connectClient();
    client.define(propertyGroup(G, SHARDS));
    client.define(schema(G, NAME, "v", TagType.TAG_TYPE_STRING));
    long t0 = System.nanoTime();
    writeProperties(0, INITIAL, perShard);
    System.out.printf("[TreeBuildCrashIT] writes took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    System.out.printf("[TreeBuildCrashIT] wrote %d properties, per shard %s%n", INITIAL, java.util.Arrays.toString(perShard));

    // 1. kill -9 during the very first build (no tree exists yet)
    killMidBuild("first build", killDelay(rnd, 200), "tree-1", data, perShard, seed);
    restartAndVerify("tree-1", data, perShard, seed);
    System.out.printf("[TreeBuildCrashIT] first cycle done at %d ms%n", (System.nanoTime() - t0) / 1_000_000);

    // measure a forced build to aim the next kills inside one
    double buildMs = forcedBuild(perShard, seed).stream().mapToDouble(r -> r.durationMs).max().orElse(100);
    assertInspectMatches(data, perShard, "after the forced build");
    System.out.printf("[TreeBuildCrashIT] a forced shard build takes %.1f ms%n", buildMs);

    // 2. more data, then kill -9 during a rebuild over a valid (now stale) tree; twice
    for (int cycle = 2; cycle <= 3; cycle++) {
      writeProperties(INITIAL + (cycle - 2) * MORE, MORE, perShard);
      killMidBuild("rebuild " + cycle, killDelay(rnd, buildMs), "tree-" + cycle, data, perShard, seed);
      restartAndVerify("tree-" + cycle, data, perShard, seed);
    }
    forcedBuild(perShard, seed);
    assertInspectMatches(data, perShard, "after the forced rebuild");
    System.out.printf("[TreeBuildCrashIT] rebuild cycles done at %d ms%n", (System.nanoTime() - t0) / 1_000_000);

    // 3. damage the tree files while the node is stopped
    client.close();
    client = null;
    server.stop();
    Path tree0 = shardDir(data, 0).resolve("tree.bin");
    Path tree1 = shardDir(data, 1).resolve("tree.bin");
    long size0 = Files.size(tree0);
    long cut = 1 + rnd.nextInt((int) Math.min(size0 - 1, 10_000));
    try (FileChannel ch = FileChannel.open(tree0, StandardOpenOption.WRITE)) {
      ch.truncate(size0 - cut);
    }
    long middle = Files.size(tree1) / 2 + rnd.nextInt(64) - 32;
    flipByte(tree1, middle);
    System.out.printf("[TreeBuildCrashIT] truncated %s by %d bytes, flipped byte %d of %s%n", tree0, cut, middle, tree1);

    server = ArborProcess.start("tree-4", data);
    assertThat(server.output()).as("the damaged trees are reported").contains("unusable");
    client = server.connectClient();
    assertThat(client.query(new org.apache.skywalking.banyandb.v1.client.PropertyQuery(
        List.of(G), NAME, java.util.Set.of()).build()).getPropertiesCount()).isPositive();
    // the node rebuilds the dropped trees on its own ...
    awaitInspectMatches(data, perShard, "rebuilt at start after damage", seed);
    // ... and a forced build agrees
    forcedBuild(perShard, seed);
    assertInspectMatches(data, perShard, "forced build after damage");
    assertNoBuildLeftovers(data, "after damage and rebuild");

    server.stop();
    ArborProcess.deleteDataDir(data);
  }

  // ---------------------------------------------------------------------------------------------

  private void writeProperties(int from, int count, int[] perShard) throws Exception {
    AtomicInteger next = new AtomicInteger(from);
    ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    List<Thread> threads = new ArrayList<>();
    BanyanDBClient c = client;
    for (int w = 0; w < WRITERS; w++) {
      Thread t = new Thread(() -> {
        int i;
        while ((i = next.getAndIncrement()) < from + count && errors.isEmpty()) {
          try {
            c.apply(property(G, NAME, id(i), str("v", "value-" + i)));
          } catch (Exception e) {
            errors.add(id(i) + ": " + e);
          }
        }
      }, "tree-writer-" + w);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join(Duration.ofSeconds(90).toMillis());
      assertThat(t.isAlive()).as("%s still writing after 90 s", t.getName()).isFalse();
    }
    assertThat(errors).as("write errors\n%s", server.logTail(30)).isEmpty();
    for (int i = from; i < from + count; i++) {
      perShard[shardOf(id(i))]++;
    }
  }

  /** Half the time at once (inside the spill phase just seen), else uniform in [0, maxMs). */
  static Duration killDelay(Random rnd, double maxMs) {
    return rnd.nextBoolean() ? Duration.ZERO : Duration.ofMillis(rnd.nextInt((int) Math.max(1, maxMs)));
  }

  static String id(int i) {
    return "p-" + i + (i % 3 == 0 ? ".x" : "") + (i % 7 == 0 ? "-y" : "");
  }

  /**
   * Kills the server inside a forced build, as seen from outside: after the kill, a {@code build-*}
   * spill directory or a {@code *.tmp} file is left in a shard directory (a finished build
   * removes both before it reports). A kill that lands after the build is not what this test is
   * about: the node is restarted (and checked) and killed again at once, up to
   * {@link #KILL_ATTEMPTS} times.
   */
  private void killMidBuild(String what, Duration firstDelay, String name, Path data, int[] perShard, long seed)
      throws Exception {
    Duration delay = firstDelay;
    for (int attempt = 1; ; attempt++) {
      String label = attempt == 1 ? what : what + " (attempt " + attempt + ")";
      if (!killDuringBuild(label, delay, data, seed).isEmpty()) {
        return;
      }
      assertThat(attempt)
          .as("[seed %d] none of %d kills landed inside the %s (no build leftovers at any kill)", seed, attempt, what)
          .isLessThan(KILL_ATTEMPTS);
      restartAndVerify(name + "-retry-" + attempt, data, perShard, seed);
      delay = Duration.ZERO;
    }
  }

  /**
   * Starts {@code arbor tree build --all --force} as a child process and kills the server with
   * SIGKILL {@code delay} after the first spill directory of the build shows up. Returns the
   * build leftovers the dead server left behind (empty: the kill missed the build).
   */
  private List<Path> killDuringBuild(String what, Duration delay, Path data, long seed) throws Exception {
    cli = ArborProcess.launchCommand("tree-build-" + what.replaceAll("[^A-Za-z0-9]+", "-"),
        "tree", "build", "--target", server.grpcTarget(), "--group", G, "--all", "--force", "--timeout", "60s");
    await("[seed " + seed + "] a build-* spill directory during the " + what)
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(1))
        .until(() -> !leftovers(data).isEmpty() || !cli.process().isAlive());
    boolean sawBuild = !leftovers(data).isEmpty();
    long killAt = System.nanoTime() + delay.toNanos();
    await().atMost(delay.plusSeconds(5)).pollInterval(Duration.ofMillis(1)).until(() -> System.nanoTime() >= killAt);
    server.kill9();
    // The process is gone: whatever build state is on disk now was left by a build in progress.
    List<Path> stale = leftovers(data);
    cli.waitFor(Duration.ofSeconds(30));
    cli.close();
    System.out.printf(
        "[TreeBuildCrashIT] %s: spill dir seen=%s, killed %d ms later; leftovers at the kill %s -> %s%n",
        what, sawBuild, delay.toMillis(), stale, stale.isEmpty() ? "missed the build" : "mid-build");
    if (!stale.isEmpty()) {
      assertThat(cli.process().exitValue())
          .as("[seed %d] the build client of a build killed mid-way reports a failure\n%s", seed, cli.output())
          .isNotZero();
    }
    staleAfterKill = stale;
    return stale;
  }

  private List<Path> staleAfterKill = List.of();

  private void restartAndVerify(String name, Path data, int[] perShard, long seed) throws Exception {
    if (client != null) {
      client.close();
      client = null;
    }
    server = ArborProcess.start(name, data);
    // leftovers of the killed build are removed while loading, before the node serves
    for (Path p : staleAfterKill) {
      assertThat(p).as("[seed %d] stale %s after restart", seed, p).doesNotExist();
    }
    client = server.connectClient();
    if (server.output().contains("is live again from its journal")) {
      // Trees live before the kill resume from their journals: the files are the last checkpoint
      // by design (the journal holds the rest), so a forced build shows what the node serves.
      System.out.printf("[TreeBuildCrashIT] %s resumed live trees from their journals%n", name);
      forcedBuild(perShard, seed);
      assertInspectMatches(data, perShard, "after restart " + name + " and a forced build");
    } else {
      // the node serves a valid tree (the old one or one it rebuilt on its own) ...
      awaitInspectMatches(data, perShard, "after restart " + name, seed);
    }
    // ... and no spill directory or temp file stays behind once its builds are done
    await("[seed " + seed + "] no build leftovers after " + name)
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> leftovers(data).isEmpty());
  }

  private void assertNoBuildLeftovers(Path data, String when) throws IOException {
    assertThat(leftovers(data)).as("build leftovers %s", when).isEmpty();
  }

  static Path shardDir(Path data, int shard) {
    return data.resolve("repair").resolve(G).resolve("shard-" + shard);
  }

  /** {@code build-*} directories and {@code *.tmp} files in any shard directory of the group. */
  static List<Path> leftovers(Path data) throws IOException {
    List<Path> out = new ArrayList<>();
    for (int s = 0; s < SHARDS; s++) {
      Path d = shardDir(data, s);
      if (!Files.isDirectory(d)) {
        continue;
      }
      try (Stream<Path> files = Files.list(d)) {
        files.filter(p -> {
          String n = p.getFileName().toString();
          return n.startsWith("build-") || n.endsWith(".tmp");
        }).forEach(out::add);
      } catch (java.nio.file.NoSuchFileException gone) {
        // directory removed concurrently
      }
    }
    return out;
  }

  // ----- arbor tree build / inspect -------------------------------------------------------------

  record ShardResult(int shard, String outcome, long leafCount, double durationMs) {}

  /** Runs a forced build of every shard, repeating while a shard reports BUSY. */
  private List<ShardResult> forcedBuild(int[] perShard, long seed) {
    List<ShardResult> results = new ArrayList<>();
    await("[seed " + seed + "] forced tree build without BUSY shards")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> {
          ArborProcess p = ArborProcess.launchCommand("tree-build",
              "tree", "build", "--target", server.grpcTarget(), "--group", G, "--all", "--force", "--timeout", "60s");
          assertThat(p.waitFor(Duration.ofSeconds(90))).as("tree build finished").isTrue();
          String out = p.output();
          assertThat(p.process().exitValue()).as("tree build exit code\n%s", out).isZero();
          JsonArray rs = json(out).getAsJsonArray("results");
          results.clear();
          for (JsonElement e : rs) {
            JsonObject o = e.getAsJsonObject();
            results.add(new ShardResult(
                o.has("shard") ? o.get("shard").getAsInt() : 0,
                o.get("outcome").getAsString(),
                o.has("leafCount") ? o.get("leafCount").getAsLong() : 0,
                o.has("durationMs") ? o.get("durationMs").getAsDouble() : 0));
          }
          return results.size() == SHARDS && results.stream().noneMatch(r -> r.outcome.equals("BUSY"));
        });
    assertThat(results).allSatisfy(r -> {
      assertThat(r.outcome).as("outcome of shard %d", r.shard).isEqualTo("BUILT");
      assertThat(r.leafCount).as("leaves built for shard %d", r.shard).isEqualTo(perShard[r.shard]);
    });
    return List.copyOf(results);
  }

  record Inspected(int exitCode, long leafCount, long slotLeafSum, String root, String output) {}

  private Inspected inspect(Path data, int shard) {
    ArborProcess p = ArborProcess.launchCommand("tree-inspect",
        "tree", "inspect", "--data-dir", data.toString(), "--group", G, "--shard", Integer.toString(shard), "--json");
    assertThat(p.waitFor(Duration.ofSeconds(60))).as("tree inspect finished").isTrue();
    String out = p.output();
    int code = p.process().exitValue();
    if (code != 0) {
      return new Inspected(code, -1, -1, null, out);
    }
    JsonObject o = json(out);
    long sum = 0;
    for (JsonElement s : o.getAsJsonArray("slots")) {
      sum += s.getAsJsonObject().get("leafCount").getAsLong();
    }
    return new Inspected(0, o.get("leafCount").getAsLong(), sum, o.get("root").getAsString(), out);
  }

  private void assertInspectMatches(Path data, int[] perShard, String when) {
    for (int s = 0; s < SHARDS; s++) {
      Inspected i = inspect(data, s);
      assertThat(i.exitCode()).as("%s: tree inspect of shard %d\n%s", when, s, i.output()).isZero();
      assertThat(i.leafCount()).as("%s: leaves of shard %d", when, s).isEqualTo(perShard[s]);
      assertThat(i.slotLeafSum()).as("%s: slot leaf counts of shard %d", when, s).isEqualTo(perShard[s]);
      assertThat(i.root()).matches("[0-9a-f]{128}");
    }
  }

  /**
   * The JSON of a build-state file. Format 2 wraps it in Arbor's file envelope — "ARBF", u8 kind
   * length, kind, u32 version, u32 header checksum; then the body; then an 8-byte footer ("FBRA",
   * u32 checksum) — while format 1 is the JSON alone. This module talks to the server only through
   * its jar, so it reads the envelope here instead of calling the server's reader.
   */
  private static String stateJson(byte[] file) {
    if (file.length > 5 && file[0] == 'A' && file[1] == 'R' && file[2] == 'B' && file[3] == 'F') {
      int headerLength = 4 + 1 + (file[4] & 0xff) + 4 + 4;
      return new String(file, headerLength, file.length - headerLength - 8, java.nio.charset.StandardCharsets.UTF_8);
    }
    return new String(file, java.nio.charset.StandardCharsets.UTF_8);
  }

  /**
   * Waits until every shard's state.json (written after its tree file) reports the expected leaf
   * count — cheap to poll — then checks the tree files themselves with {@code arbor tree inspect}.
   */
  private void awaitInspectMatches(Path data, int[] perShard, String when, long seed) {
    await("[seed " + seed + "] " + when + ": state of every shard reports every property")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> {
          for (int s = 0; s < SHARDS; s++) {
            Path state = shardDir(data, s).resolve("state.json");
            if (!Files.exists(state)) {
              return false;
            }
            try {
              JsonObject o = JsonParser.parseString(stateJson(Files.readAllBytes(state))).getAsJsonObject();
              if (!o.has("leafCount") || o.get("leafCount").getAsLong() != perShard[s]) {
                return false;
              }
            } catch (IOException | RuntimeException replacedOrPartial) {
              return false;
            }
          }
          return true;
        });
    assertInspectMatches(data, perShard, when);
  }

  /** The JSON document in a command's output (the log may hold other lines around it). */
  static JsonObject json(String out) {
    List<String> lines = out.lines().toList();
    int a = lines.indexOf("{");
    int b = lines.lastIndexOf("}");
    if (a < 0 || b < a) {
      throw new AssertionError("no JSON document in output:\n" + out);
    }
    return JsonParser.parseString(String.join("\n", lines.subList(a, b + 1))).getAsJsonObject();
  }

  // ----- helpers ----------------------------------------------------------------------------------


  static void flipByte(Path file, long pos) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, pos);
      ch.write(ByteBuffer.wrap(new byte[] {(byte) (b.get(0) ^ 0xFF)}), pos);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The server's shard of an id: {@code xxHash64(utf8(group/name/id), seed 0) mod shards}, unsigned. */
  static int shardOf(String id) {
    byte[] entity = (G + "/" + NAME + "/" + id).getBytes(StandardCharsets.UTF_8);
    return (int) Long.remainderUnsigned(XxHash64.hash(entity), SHARDS);
  }

  /** xxHash64 with seed 0 (the server uses lz4-java's, which is not on this classpath). */
  static final class XxHash64 {
    private static final long P1 = 0x9E3779B185EBCA87L;
    private static final long P2 = 0xC2B2AE3D27D4EB4FL;
    private static final long P3 = 0x165667B19E3779F9L;
    private static final long P4 = 0x85EBCA77C2B2AE63L;
    private static final long P5 = 0x27D4EB2F165667C5L;

    private XxHash64() {}

    static long hash(byte[] b) {
      int n = b.length;
      int i = 0;
      long h;
      if (n >= 32) {
        long v1 = P1 + P2;
        long v2 = P2;
        long v3 = 0;
        long v4 = -P1;
        for (; i <= n - 32; i += 32) {
          v1 = round(v1, le64(b, i));
          v2 = round(v2, le64(b, i + 8));
          v3 = round(v3, le64(b, i + 16));
          v4 = round(v4, le64(b, i + 24));
        }
        h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12) + Long.rotateLeft(v4, 18);
        h = merge(h, v1);
        h = merge(h, v2);
        h = merge(h, v3);
        h = merge(h, v4);
      } else {
        h = P5;
      }
      h += n;
      for (; i <= n - 8; i += 8) {
        h ^= round(0, le64(b, i));
        h = Long.rotateLeft(h, 27) * P1 + P4;
      }
      if (i <= n - 4) {
        h ^= le32(b, i) * P1;
        h = Long.rotateLeft(h, 23) * P2 + P3;
        i += 4;
      }
      for (; i < n; i++) {
        h ^= (b[i] & 0xffL) * P5;
        h = Long.rotateLeft(h, 11) * P1;
      }
      h ^= h >>> 33;
      h *= P2;
      h ^= h >>> 29;
      h *= P3;
      h ^= h >>> 32;
      return h;
    }

    private static long round(long acc, long in) {
      return Long.rotateLeft(acc + in * P2, 31) * P1;
    }

    private static long merge(long acc, long v) {
      return (acc ^ round(0, v)) * P1 + P4;
    }

    private static long le64(byte[] b, int i) {
      long v = 0;
      for (int k = 7; k >= 0; k--) {
        v = (v << 8) | (b[i + k] & 0xffL);
      }
      return v;
    }

    private static long le32(byte[] b, int i) {
      return (b[i] & 0xffL) | (b[i + 1] & 0xffL) << 8 | (b[i + 2] & 0xffL) << 16 | (b[i + 3] & 0xffL) << 24;
    }
  }
}
