package dev.arbor.it;

import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.MessageLimits;
import static dev.arbor.it.Props.property;
import static dev.arbor.it.Props.propertyGroup;
import static dev.arbor.it.Props.schema;
import static dev.arbor.it.Props.str;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.ReadRequest;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.check.History;
import dev.arbor.check.History.Outcome;
import dev.arbor.check.ReplicaChecker;
import dev.arbor.harness.EtcdServer;
import io.grpc.ManagedChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.skywalking.banyandb.database.v1.BanyandbDatabase.TagType;
import org.apache.skywalking.banyandb.property.v1.BanyandbProperty;
import org.apache.skywalking.banyandb.property.v1.BanyandbProperty.ApplyRequest.Strategy;
import org.apache.skywalking.banyandb.v1.client.BanyanDBClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Seeded fault schedules against a real cluster (etcd, three data nodes, two liaisons whose
 * clocks disagree), with a tombstone grace short enough that purges happen during the run.
 * Clients apply and delete a small set of keys through both liaisons while a fault thread
 * restarts nodes with SIGTERM, kills them with {@code kill -9}, freezes one past its lease
 * (SIGSTOP, so it drops out of the ring and comes back), and runs repairs. Afterwards every
 * node is up, a final repair runs, and {@link ReplicaChecker} reads every key on every replica:
 * no acknowledged delete undone, no acknowledged write lost, replicas equal.
 *
 * <p>Flags (system properties): {@code arbor.it.fault.seeds} (comma-separated, default three
 * seeds), {@code arbor.it.fault.seconds} (operation time per seed, default 20),
 * {@code arbor.it.fault.skew} (clock offset of the second liaison, default 40ms; {@code 0ms}
 * to run against builds without the test-only flag), {@code arbor.it.fault.groupChurn} (also
 * delete and re-create a group while a node is down; default true), {@code
 * arbor.it.fault.maxClockSkew} (data nodes' {@code --max-clock-skew}, default 500ms; {@code none}
 * for builds without the flag, e.g. {@code -Darbor.jar=<95b71fe jar> -Darbor.it.fault.skew=0ms
 * -Darbor.it.fault.maxClockSkew=none} to see an old build fail).
 */
@Timeout(900)
class FaultScheduleIT {
  private static final List<String> NODE_IDS = List.of("f1", "f2", "f3");
  private static final String G = "faults";
  private static final String N = "doc";
  private static final int SHARDS = 2;
  /** Three copies on three nodes: faults change liveness, never which nodes own a shard. */
  private static final int REPLICAS = 2;
  private static final int KEYS = 24;
  private static final String GRACE = "4s";
  private static final String NODE_TTL = "3s";

  private final List<String> seeds =
      List.of(System.getProperty("arbor.it.fault.seeds", "101,202,303").split(","));
  private final int seconds = Integer.getInteger("arbor.it.fault.seconds", 20);
  private final String skew = System.getProperty("arbor.it.fault.skew", "40ms");
  private final boolean groupChurn =
      Boolean.parseBoolean(System.getProperty("arbor.it.fault.groupChurn", "true"));
  private final String maxClockSkew = System.getProperty("arbor.it.fault.maxClockSkew", "500ms");
  /** Background {@code repair run} processes of the current seed. */
  private final List<ArborProcess> repairs = new ArrayList<>();

  @Test
  void seededFaultSchedulesLoseNothingAndResurrectNothing() throws Exception {
    List<String> failures = new ArrayList<>();
    for (String s : seeds) {
      long seed = Long.parseLong(s.trim());
      SeedResult r = runSeed(seed);
      System.out.printf("[fault-it] seed=%d %s; %s%n", seed, r.figures(), r.report().summary());
      r.report().violations().stream().limit(20).forEach(v -> System.out.printf("[fault-it]   %s%n", v));
      if (!r.report().clean()) {
        failures.add("seed " + seed + " (replay: -Darbor.it.fault.seeds=" + seed + "): " + r.report().summary()
            + "\n  " + String.join("\n  ", r.report().violations().stream().limit(10).map(Object::toString).toList()));
      }
    }
    assertThat(failures).as("fault schedules with violations").isEmpty();
  }

  /** What happened during one seed's run, for the closing figures. */
  record SeedResult(ReplicaChecker.Report report, Map<String, Integer> faults) {
    String figures() {
      return "faults " + faults;
    }
  }

  private SeedResult runSeed(long seed) throws Exception {
    Random random = new Random(seed);
    java.nio.file.attribute.FileTime started = java.nio.file.attribute.FileTime.from(java.time.Instant.now());
    Path work = ArborProcess.newDataDir("faults-" + seed);
    EtcdServer etcd = ArborProcess.startEtcd(Files.createDirectories(work.resolve("etcd")));
    String metadata = "etcd://127.0.0.1:" + etcd.clientUri().getPort();
    Map<String, ArborProcess> nodes = new LinkedHashMap<>();
    List<ArborProcess> liaisons = new ArrayList<>();
    List<BanyanDBClient> clients = new ArrayList<>();
    Map<String, Integer> faults = new java.util.TreeMap<>();
    boolean ok = false;
    try {
      List<String> dataArgs = new ArrayList<>(List.of("--node-ttl", NODE_TTL, "--tombstone-grace", GRACE,
          "--repair-schedule", "@every 3s", "--checkpoint-interval", "2s", "--tree-quick-build-delay", "1s"));
      if (!maxClockSkew.equals("none")) {
        // Also the purge rule's margin: short, so purges happen within the run.
        dataArgs.addAll(List.of("--max-clock-skew", maxClockSkew));
      }
      nodes.putAll(ArborProcess.startDataNodes("fault-" + seed + "-", NODE_IDS, work, metadata,
          dataArgs.toArray(String[]::new)));
      liaisons.add(ArborProcess.startLiaison("fault-" + seed + "-l1", metadata, "--node-timeout", "2s"));
      List<String> skewed = new ArrayList<>(List.of("--node-timeout", "2s"));
      if (!skew.equals("0ms")) {
        skewed.addAll(List.of("--test-clock-offset", skew));
      }
      liaisons.add(ArborProcess.startLiaison("fault-" + seed + "-l2", metadata, skewed.toArray(String[]::new)));
      for (ArborProcess l : liaisons) {
        BanyanDBClient c = new BanyanDBClient(l.grpcTarget());
        c.connect();
        clients.add(c);
      }
      clients.get(0).define(propertyGroup(G, SHARDS, REPLICAS));
      clients.get(0).define(schema(G, N, "v", TagType.TAG_TYPE_STRING));

      History history = new History();
      AtomicBoolean stop = new AtomicBoolean();
      ExecutorService pool = Executors.newFixedThreadPool(clients.size());
      List<Future<Integer>> writers = new ArrayList<>();
      for (int i = 0; i < clients.size(); i++) {
        BanyanDBClient c = clients.get(i);
        long writerSeed = random.nextLong();
        String name = "w" + i;
        writers.add(pool.submit(() -> write(c, name, new Random(writerSeed), history, stop)));
      }
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      while (System.nanoTime() < end) {
        String kind = inject(random, nodes, faults, clients.get(0), history);
        faults.merge(kind, 1, Integer::sum);
      }
      stop.set(true);
      int ops = 0;
      for (Future<Integer> w : writers) {
        ops += w.get(60, TimeUnit.SECONDS);
      }
      pool.shutdownNow();
      faults.put("client ops", ops);

      for (ArborProcess r : repairs) {
        r.waitFor(Duration.ofSeconds(60));
        r.close();
      }
      repairs.clear();
      // Everyone back, one last repair, then every replica is read.
      for (String id : NODE_IDS) {
        ArborProcess n = nodes.get(id);
        if (!n.process().isAlive()) {
          nodes.put(id, n.restart());
        }
      }
      awaitRing(new EtcdGateway(etcd.clientUri()));
      finalRepair(nodes.get(NODE_IDS.get(random.nextInt(NODE_IDS.size()))));
      ReplicaChecker.Report report = ReplicaChecker.check(history, readAll(nodes, history.keys()), k -> NODE_IDS);
      faults.put("tombstones purged", purgedTombstones("fault-" + seed + "-f", started));
      ok = report.clean();
      return new SeedResult(report, faults);
    } finally {
      repairs.forEach(ArborProcess::close);
      repairs.clear();
      for (BanyanDBClient c : clients) {
        try {
          c.close();
        } catch (Exception ignored) {
          // the run's outcome is decided above
        }
      }
      List<ArborProcess> all = new ArrayList<>(liaisons);
      all.addAll(nodes.values());
      for (ArborProcess p : all) {
        sendSignal(p, "CONT"); // never leave a frozen process behind
      }
      ArborProcess.stopAll(all);
      etcd.close();
      if (ok) {
        ArborProcess.deleteDataDir(work);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Clients
  // ---------------------------------------------------------------------------------------------

  /** Applies (REPLACE, a value unique in the run) and deletes random keys until stopped. */
  private static int write(BanyanDBClient c, String name, Random random, History history, AtomicBoolean stop) {
    int n = 0;
    while (!stop.get()) {
      String id = "k" + random.nextInt(KEYS);
      boolean delete = random.nextInt(10) < 3;
      History.Pending op = delete ? history.beginDelete(id) : history.beginWrite(id, name + "-" + n);
      try {
        if (delete) {
          c.deleteProperty(G, N, id);
        } else {
          c.apply(property(G, N, id, str("v", name + "-" + n)), Strategy.STRATEGY_REPLACE);
        }
        op.end(Outcome.ACKED);
      } catch (Exception e) {
        // UNAVAILABLE and ABORTED may follow a partial write: the outcome is unknown.
        op.end(Outcome.UNKNOWN);
      }
      n++;
    }
    return n;
  }

  // ---------------------------------------------------------------------------------------------
  // Faults
  // ---------------------------------------------------------------------------------------------

  private String inject(Random random, Map<String, ArborProcess> nodes, Map<String, Integer> faults,
      BanyanDBClient admin, History history) throws Exception {
    String id = NODE_IDS.get(random.nextInt(NODE_IDS.size()));
    ArborProcess n = nodes.get(id);
    int pick = random.nextInt(groupChurn ? 5 : 4);
    pause(random, 200, 1000);
    switch (pick) {
      case 0 -> {
        assertThat(n.stop()).as("%s exit code after SIGTERM\n%s", n.name(), n.logTail(20)).isZero();
        pause(random, 0, 2000);
        nodes.put(id, n.restart());
        return "sigterm restart";
      }
      case 1 -> {
        n.kill9();
        pause(random, 0, 2000);
        nodes.put(id, n.restart());
        return "kill -9";
      }
      case 2 -> {
        // Frozen past its lease: the ring drops it, then it wakes up and re-registers.
        sendSignal(n, "STOP");
        pause(random, 3500, 5000);
        sendSignal(n, "CONT");
        return "lease expiry (SIGSTOP)";
      }
      case 3 -> {
        // In the background: the next faults land while it runs.
        repairs.add(ArborProcess.launchCommand("fault-repair", "repair", "run", "--target",
            n.grpcTarget(), "--group", G, "--all", "--timeout", "20s"));
        return "repair run";
      }
      default -> {
        // A group deleted and re-created while one node is down, which misses both events. kill -9
        // leaves its registration until the lease runs out, so the re-create (which needs every
        // copy placeable) still finds three nodes.
        n.kill9();
        List<String> keys = new ArrayList<>();
        for (int k = 0; k < KEYS; k++) {
          keys.add("k" + k);
        }
        History.PendingAll drop = history.beginDeleteAll(keys);
        try {
          admin.deleteGroup(G);
          drop.end(Outcome.ACKED);
        } catch (Exception e) {
          drop.end(Outcome.UNKNOWN);
          throw e;
        }
        admin.define(propertyGroup(G, SHARDS, REPLICAS));
        admin.define(schema(G, N, "v", TagType.TAG_TYPE_STRING));
        nodes.put(id, n.restart());
        return "group delete + re-create";
      }
    }
  }

  private static void pause(Random random, int minMs, int maxMs) throws InterruptedException {
    // Spacing between faults, drawn from the seed: a schedule, not a wait for a condition.
    Thread.sleep(minMs + random.nextInt(Math.max(1, maxMs - minMs)));
  }

  private static void sendSignal(ArborProcess p, String signal) {
    if (!p.process().isAlive()) {
      return;
    }
    try {
      Process k = new ProcessBuilder("kill", "-" + signal, Long.toString(p.process().pid())).start();
      if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) {
        throw new AssertionError("kill -" + signal + " " + p.name() + " failed");
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The end state
  // ---------------------------------------------------------------------------------------------

  /** Waits until every data node is registered in etcd again (a frozen one re-registers). */
  private static void awaitRing(EtcdGateway etcd) {
    await("every data node registered").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
        .until(() -> {
          // Per id: liaisons register under nodes/ too (role liaison).
          for (String id : NODE_IDS) {
            if (etcd.countPrefix("/arbor/v1/nodes/" + id) != 1) {
              return false;
            }
          }
          return true;
        });
  }

  private static void finalRepair(ArborProcess origin) {
    await("a final repair round that completes on every shard and reaches every replica")
        .atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1))
        .until(() -> {
          ArborProcess cli = ArborProcess.launchCommand("fault-final-repair", "repair", "run", "--target",
              origin.grpcTarget(), "--group", G, "--all", "--timeout", "60s");
          try {
            // A round completes around a replica its peers cannot reach yet (a node just restarted on
            // the same port, a peer's channel still in reconnect backoff): the hop says "skipped".
            // The check reads every replica, so the last round must have reached them all.
            return cli.waitFor(Duration.ofSeconds(90)) && cli.process().exitValue() == 0
                && !Files.readString(cli.logFile()).contains("(skipped ");
          } finally {
            cli.close();
          }
        });
  }

  /** Tombstones the data nodes of a run purged, from their logs (a restart resets the metric). */
  private static int purgedTombstones(String logPrefix, java.nio.file.attribute.FileTime since)
      throws java.io.IOException {
    java.util.regex.Pattern purged = java.util.regex.Pattern.compile("purged (\\d+) tombstone");
    int total = 0;
    try (java.util.stream.Stream<Path> logs = Files.list(ArborProcess.logsDir())) {
      for (Path log : logs.filter(p -> p.getFileName().toString().startsWith(logPrefix)).toList()) {
        if (Files.getLastModifiedTime(log).compareTo(since) < 0) {
          continue; // an earlier run's
        }
        for (String line : Files.readAllLines(log)) {
          java.util.regex.Matcher m = purged.matcher(line);
          if (m.find()) {
            total += Integer.parseInt(m.group(1));
          }
        }
      }
    }
    return total;
  }

  /** For each node, key → live value (absent when missing, deleted or purged). */
  private static Map<String, Map<String, String>> readAll(Map<String, ArborProcess> nodes, List<String> keys)
      throws Exception {
    Map<String, Map<String, String>> out = new HashMap<>();
    for (String id : NODE_IDS) {
      ManagedChannel ch = ChannelFactory.plaintext().open(nodes.get(id).internalTarget(), MessageLimits.MAX_MESSAGE_BYTES);
      try {
        ReadRequest.Builder req = ReadRequest.newBuilder();
        for (String k : keys) {
          req.addKeys(Key.newBuilder().setGroup(G).setShard(Routing.shardOf(G, N, k, SHARDS))
              .setEntity(G + "/" + N + "/" + k));
        }
        Map<String, String> held = new HashMap<>();
        for (StoredProperty p : DataNodeServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS)
            .read(req.build()).getPropertiesList()) {
          if (p.getDeleteTime() == 0) {
            String key = p.getEntity().substring((G + "/" + N + "/").length());
            held.put(key, BanyandbProperty.Property.parseFrom(p.getSource()).getTags(0).getValue().getStr().getValue());
          }
        }
        out.put(id, held);
      } finally {
        ch.shutdownNow();
        ch.awaitTermination(5, TimeUnit.SECONDS);
      }
    }
    return out;
  }
}
