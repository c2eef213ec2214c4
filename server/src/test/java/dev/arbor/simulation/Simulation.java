package dev.arbor.simulation;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceCreateRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceDeleteRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceGrpc;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceCreateRequest;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceGrpc;
import dev.arbor.api.banyandb.database.v1.TagSpec;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.ApplyRequest;
import dev.arbor.api.banyandb.property.v1.DeleteRequest;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.banyandb.property.v1.PropertyServiceGrpc;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.repair.v1.RoundOutcome;
import dev.arbor.check.History;
import dev.arbor.check.ReplicaChecker;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.DataNodes;
import dev.arbor.cluster.Placement;
import dev.arbor.cluster.WriteConsistency;
import dev.arbor.liaison.ReplicatedApi;
import dev.arbor.liaison.RequestLimits;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.EmbeddedNodeRegistry;
import dev.arbor.metadata.RegisteredNode;
import dev.arbor.property.EntityKey;
import dev.arbor.property.HybridClock;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import dev.arbor.repair.RepairRounds;
import dev.arbor.server.RepairConfig;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One seed's run: a cluster of real data nodes and a liaison ({@link SimDataNode}, the real
 * {@link ReplicatedApi}) on a {@link SimNetwork}, a workload of applies, deletes and queries
 * recorded in a {@link History}, background repair rounds, gossip, checkpoints and tombstone
 * purges, and a schedule of faults — every step ordered on virtual time by one thread. Then the
 * faults heal, every shard is repaired, and every replica is checked against the history: no
 * acknowledged delete undone, no acknowledged write lost unless replaced, replicas equal.
 *
 * <p>The workload depends on the seed only; the fault schedule too unless one is given (a shrunk
 * or edited schedule replays against the same workload).
 */
final class Simulation {
  static final String GROUP = "g";
  static final String SCHEMA = "t";
  private static final AtomicLong RUNS = new AtomicLong();
  private static final long RUN_MILLIS = 60_000;
  /**
   * Half the operations go to a few hot keys, which see many operations from both liaisons while
   * faults come and go; half to more cold keys, whose last operation is often long before the
   * end, so what repair and purges did to them meanwhile shows in the final state.
   */
  private static final int HOT_KEYS = 6;
  private static final int KEYS = 24;
  private static final List<String> LIAISONS = List.of("l1", "l2");
  /**
   * Short next to the run, so tombstones reach it between rewrites of their key (a key sees an
   * operation every second or two) and purges happen while replicas still disagree.
   */
  private static final Duration GRACE = Duration.ofSeconds(3);
  private static final Duration MAX_SKEW = Duration.ofSeconds(2);
  private static final Duration ROUND_TIMEOUT = Duration.ofSeconds(30);

  /** What a run did and found. */
  record Outcome(long seed, List<Fault> faults, List<String> problems, Totals totals, long fingerprint,
      List<String> journal) {
    boolean failed() {
      return !problems.isEmpty();
    }
  }

  /** The run's counts, summed over seeds for the summary line. */
  record Totals(long operations, long acked, long crashes, long stops, long partitions, long storms,
      long groupChurns, long purged,
      long rounds, long roundsCompleted, long roundsUnfinished, long gossipHops, long steps, long messages,
      long messagesFaulted, long races, long messagesHeld, long queriesJudged) {
    static final Totals ZERO = new Totals(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    Totals plus(Totals o) {
      return new Totals(operations + o.operations, acked + o.acked, crashes + o.crashes, stops + o.stops,
          partitions + o.partitions, storms + o.storms, groupChurns + o.groupChurns, purged + o.purged, rounds + o.rounds,
          roundsCompleted + o.roundsCompleted, roundsUnfinished + o.roundsUnfinished, gossipHops + o.gossipHops,
          steps + o.steps, messages + o.messages, messagesFaulted + o.messagesFaulted, races + o.races,
          messagesHeld + o.messagesHeld, queriesJudged + o.queriesJudged);
    }

    String summary() {
      return "operations " + operations + " (acked " + acked + "), crashes " + crashes + ", stops " + stops
          + ", partitions " + partitions + ", storms " + storms + ", group re-creations " + groupChurns
          + ", tombstones purged " + purged
          + ", repair rounds " + rounds + " (completed " + roundsCompleted + ", unfinished " + roundsUnfinished
          + "), gossip hops " + gossipHops + ", steps " + steps + ", messages " + messages + " (faulted "
          + messagesFaulted + "), races " + races + " (messages held " + messagesHeld + "), queries judged "
          + queriesJudged;
    }
  }

  private final long seed;
  private final Path dir;
  private final Random workload;
  private final Random background;
  private final SimScheduler clock;
  private final SimNetwork network;
  private final HeldMessages held;
  private Races races;
  private QueryJudge queries;
  private final Map<String, SimDataNode> nodes = new LinkedHashMap<>();
  private final Map<String, Long> skews = new HashMap<>();
  /** Liaisons whose clock is off beyond the allowed skew now (a FAR_SKEW fault). */
  private final Set<String> farSkewed = new HashSet<>();
  private final Set<String> gossipScheduled = new HashSet<>();
  private final History history = new History();
  private final List<String> problems = new ArrayList<>();
  private final List<RepairRounds.Round> rounds = new ArrayList<>();
  private final List<Fault> faults;
  private final int shards;
  private final int copies;
  private final AtomicReference<WriteConsistency> consistency = new AtomicReference<>(WriteConsistency.ONE);
  private EmbeddedMetadataStore metadata;
  private EmbeddedNodeRegistry registry;
  /** Per liaison: its data node clients, its API, the workload's channel to it. */
  private final Map<String, DataNodes> liaisonNodes = new LinkedHashMap<>();
  private final Map<String, ReplicatedApi> liaisons = new LinkedHashMap<>();
  private final Map<String, dev.arbor.runtime.NodeRuntime> liaisonRuntimes = new LinkedHashMap<>();
  private final TombstoneTimes tombstoneTimes = new TombstoneTimes(MAX_SKEW.toNanos());
  private final Map<String, ManagedChannel> clients = new LinkedHashMap<>();
  private final List<dev.arbor.runtime.NodeRuntime> runtimes = new ArrayList<>();
  private final SimThreads threads;
  private ManagedChannel client;
  private long ops;
  private long crashes;
  private long stops;
  private long partitions;
  private long storms;
  private long purged;
  private long groupChurns;
  private long hops;

  private final dev.arbor.property.DefectSwitches defects;

  private Simulation(long seed, Path dir, List<Fault> given, boolean journal,
      dev.arbor.property.DefectSwitches defects) {
    this.defects = defects;
    this.seed = seed;
    this.dir = dir;
    this.workload = new Random(seed);
    this.background = new Random(seed * 0x9E3779B97F4A7C15L + 1);
    this.clock = new SimScheduler(journal);
    this.threads = new SimThreads(clock);
    this.network = new SimNetwork("sim-" + RUNS.incrementAndGet() + "-" + seed + "/", seed, clock);
    this.held = new HeldMessages(seed);
    network.hold(held);
    int n = 3 + workload.nextInt(3);
    for (int i = 1; i <= n; i++) {
      nodes.put("n" + i, null);
    }
    this.shards = 1 + workload.nextInt(3);
    this.copies = Math.min(n, 2 + workload.nextInt(2));
    this.faults = given != null ? given : schedule(new Random(seed * 31 + 7), List.copyOf(nodes.keySet()));
  }

  /** Runs one seed with its own fault schedule ({@code faults} null) or the one given. */
  static Outcome run(long seed, Path dir, List<Fault> faults) {
    return run(seed, dir, faults, false, dev.arbor.property.DefectSwitches.NONE);
  }

  /**
   * @param journal keep every step's time and name in the outcome (comparing two runs of a seed)
   * @param defects fixed defects brought back (proving the simulation would catch them); NONE normally
   */
  static Outcome run(long seed, Path dir, List<Fault> faults, boolean journal,
      dev.arbor.property.DefectSwitches defects) {
    Simulation s = new Simulation(seed, dir, faults, journal, defects);
    try {
      s.execute();
    } catch (RuntimeException | Error e) {
      s.problems.add("step failed at " + s.clock.elapsedMillis() + " ms: " + trace(e));
    } finally {
      s.close();
    }
    List<String> steps = new ArrayList<>(s.clock.journal());
    if (journal) {
      for (RepairRounds.Round r : s.rounds) {
        RoundOutcome o = r.outcome().getNow(null);
        steps.add("round " + r.group() + "/" + r.shard() + " " + r.nodes() + " "
            + (o == null ? "unfinished" : o.getStatus() + ": " + o.getMessage().replaceAll("-\\d{10,}", "")));
      }
    }
    return new Outcome(seed, s.faults, List.copyOf(s.problems), s.totals(), s.clock.fingerprint(), steps);
  }

  /**
   * The seed's own fault schedule: 3 to 10 faults in the first 50 s, each lasting 0.5 to 8 s; a
   * clock skew or a partition may hit a liaison as well as a data node.
   */
  static List<Fault> schedule(Random r, List<String> nodeIds) {
    List<Fault> out = new ArrayList<>();
    int count = 3 + r.nextInt(8);
    Fault.Kind[] kinds = java.util.Arrays.stream(Fault.Kind.values()).filter(k -> !k.disk() && k != Fault.Kind.FAR_SKEW)
        .toArray(Fault.Kind[]::new);
    List<String> anyone = new ArrayList<>(nodeIds);
    anyone.addAll(LIAISONS);
    for (int i = 0; i < count; i++) {
      Fault.Kind k = kinds[r.nextInt(kinds.length)];
      List<String> targets = k == Fault.Kind.SKEW || k == Fault.Kind.PARTITION ? anyone : nodeIds;
      out.add(new Fault(k, 2_000 + r.nextInt(48_000), 500 + r.nextInt(7_500), targets.get(r.nextInt(targets.size()))));
    }
    out.addAll(SimDiskFaults.schedule(new Random(r.nextLong()), nodeIds));
    // Rarer, and drawn after the others so they stay as they were: a liaison restarted on a clock
    // far behind, beyond the allowed skew.
    if (r.nextBoolean()) {
      out.add(new Fault(Fault.Kind.FAR_SKEW, 2_000 + r.nextInt(36_000), 12_000 + r.nextInt(10_000),
          LIAISONS.get(r.nextInt(LIAISONS.size()))));
    }
    out.sort((a, b) -> Long.compare(a.atMillis(), b.atMillis()));
    return out;
  }

  private void execute() {
    long start = clock.now();
    metadata = openMetadata();
    registry = new EmbeddedNodeRegistry();
    metadata.createGroup(group());
    metadata.createSchema(schema());
    // Deadlines scaled to a one-minute run (production: 20-minute rounds, 10-minute sessions).
    RepairConfig repair = new RepairConfig("off", ROUND_TIMEOUT, Duration.ofSeconds(20), Duration.ofMinutes(1),
        Duration.ofDays(1)).withMaxClockSkew(MAX_SKEW);
    for (String id : List.copyOf(nodes.keySet())) {
      skews.put(id, 0L);
      SimDataNode node = new SimDataNode(id, dir.resolve(id), metadata, this::dataNodes, network, repair, GRACE,
          () -> clock.now() + skews.get(id), (g, s) -> step(200 + background.nextInt(800), "build " + id,
              () -> nodes.get(id).build(g, s)), defects, threads);
      nodes.put(id, node);
      node.start();
      registry.register(new RegisteredNode(id, SimNetwork.address(id), Set.of("data"), Map.of()), Duration.ofDays(1));
    }
    for (String l : LIAISONS) {
      skews.put(l, 0L);
      DataNodes dn = new DataNodes(Duration.ofSeconds(30), network.channelsFrom(l));
      dn.update(dataNodes());
      liaisonNodes.put(l, dn);
      // Each liaison stamps revisions on its own clock: two liaisons with skewed clocks race.
      dev.arbor.runtime.NodeRuntime lr = new dev.arbor.runtime.NodeRuntime(clock::now,
          () -> clock.now() + skews.get(l), threads, Duration.ofSeconds(5));
      runtimes.add(lr);
      liaisonRuntimes.put(l, lr);
      startLiaison(l);
    }
    client = clients.get(LIAISONS.get(0));
    network.faults(baseFaults());

    int operations = 200 + workload.nextInt(100);
    for (int i = 0; i < operations; i++) {
      long at = workload.nextInt((int) RUN_MILLIS);
      long opSeed = workload.nextLong();
      step(at, "client op", () -> clientOp(new Random(opSeed)));
    }
    races = new Races(raceRun(), history, held, liaisons, clients, problems);
    queries = new QueryJudge(history, keys(0, KEYS), problems,
        () -> !races.any() && !network.partitioned() && nodes.values().stream().allMatch(SimDataNode::up),
        this::messagesFaulted, clock::elapsedMillis);
    Random raceDraws = new Random(seed * 0x2545F4914F6CDD1DL + 3);
    races.schedule(raceDraws, 20 + raceDraws.nextInt(20), keys(0, HOT_KEYS), keys(0, KEYS), LIAISONS, seed,
        RUN_MILLIS - 2_000);
    for (String id : nodes.keySet()) {
      periodic(id, "round", 6_000, () -> startRound(id));
      periodic(id, "checkpoint", 5_000, () -> nodes.get(id).checkpoint());
      periodic(id, "purge", 2_000, () -> purged += nodes.get(id).purge());
    }
    for (Fault f : faults) {
      step(f.atMillis(), f.token(), () -> begin(f));
      step(f.atMillis() + f.forMillis(), "end " + f.token(), () -> end(f));
    }
    clock.runUntil(start + TimeUnit.MILLISECONDS.toNanos(RUN_MILLIS + 10_000));
    problems.addAll(races.unfinished());
    heal();
    repairEverything();
    // Past every round's deadline: a round whose reports were lost ends ABORTED by its origin's
    // timer; one still without an outcome then never ends.
    clock.runUntil(clock.now() + ROUND_TIMEOUT.toNanos() * 2);
    checkRoundsEnded();
    check();
  }

  /** Calls refused, dropped, late, or whose reply was lost, and streams cut, so far. */
  private long messagesFaulted() {
    SimNetwork.Counts c = network.counts();
    return c.refused() + c.dropped() + c.repliesLost() + c.late() + c.streamsCut();
  }

  /** Starts (or restarts) a liaison: a new API, with a new hybrid clock, serving under its address. */
  private void startLiaison(String l) {
    ReplicatedApi api = new ReplicatedApi(liaisonRuntimes.get(l), metadata, liaisonNodes.get(l),
        new HybridClock(() -> clock.now() + skews.get(l)), RequestLimits.DEFAULTS, "sim", consistency::get, 128,
        dev.arbor.liaison.ReplicaCallLimits.DEFAULTS, defects);
    liaisons.put(l, api);
    network.serve(l, api.services());
    clients.put(l, network.loopback().open(SimNetwork.address(l), 64 << 20));
  }

  /**
   * A liaison restarted on a machine whose clock is far behind: its new hybrid clock has stamped
   * nothing yet, so its fresh deletes carry the clock's time (a running one never stamps below
   * what it stamped before). Not while a raced operation holds it.
   */
  private void restartLiaison(String l) {
    if (races.busy(l)) {
      return;
    }
    network.unserve(l);
    clients.remove(l).shutdownNow();
    liaisons.remove(l).close();
    startLiaison(l);
    if (l.equals(LIAISONS.get(0))) {
      client = clients.get(l);
    }
  }

  /** Every replica that is up: a tombstone of {@code key} must be dated within a delete of it. */
  private void checkTombstoneTimes(String key) {
    EntityKey k = new EntityKey(GROUP, SCHEMA, key);
    int shard = ShardRouter.shardOf(k, shards);
    for (DataNode d : Placement.of(dataNodes()).placeCapped(GROUP, shard, copies)) {
      SimDataNode n = nodes.get(d.id().value());
      PropertyRecord r = n.up() ? n.latest(GROUP, shard, k) : null;
      String why = r == null || !r.deleted() ? null : tombstoneTimes.problem(key, r.deleteTime(), SimScheduler.EPOCH_NANOS);
      if (why != null && problems.stream().noneMatch(p -> p.startsWith("a tombstone of " + key + " "))) {
        problems.add(why + " on " + n.id + " at " + clock.elapsedMillis() + " ms");
      }
    }
  }

  private EmbeddedMetadataStore openMetadata() {
    try {
      return EmbeddedMetadataStore.open(dir.resolve("meta"), new HybridClock(clock::now));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private List<DataNode> dataNodes() {
    return registry.nodes().stream().filter(n -> n.hasRole("data"))
        .map(n -> DataNode.of(n.id(), n.grpcAddress())).toList();
  }

  private SimNetwork.Faults baseFaults() {
    // A third of the seeds run on a calm network, a third lose a little of everything, a third more.
    return switch ((int) Math.floorMod(seed, 3L)) {
      case 0 -> SimNetwork.Faults.NONE;
      case 1 -> new SimNetwork.Faults(0.01, 0.01, 0.01, 0.01, 0.002);
      default -> new SimNetwork.Faults(0.05, 0.03, 0.03, 0.03, 0.005);
    };
  }

  /** Schedules an action {@code delayMillis} from now; after it, waiting gossip is scheduled. */
  private void step(long delayMillis, String what, Runnable action) {
    clock.after(delayMillis, what, () -> {
      action.run();
      scheduleGossip();
    });
  }

  private void periodic(String id, String what, long everyMillis, Runnable action) {
    long first = background.nextInt((int) everyMillis);
    step(first, what + " " + id, new Runnable() {
      @Override
      public void run() {
        if (clock.elapsedMillis() > RUN_MILLIS) {
          return;
        }
        if (nodes.get(id).up()) {
          action.run();
        }
        step(everyMillis / 2 + background.nextInt((int) everyMillis), what + " " + id, this);
      }
    });
  }

  private void scheduleGossip() {
    for (SimDataNode n : nodes.values()) {
      if (n.gossipPending() && gossipScheduled.add(n.id)) {
        clock.after(1 + background.nextInt(100), "gossip " + n.id, () -> {
          gossipScheduled.remove(n.id);
          if (n.gossipStep()) {
            hops++;
          }
          scheduleGossip();
        });
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Workload
  // ---------------------------------------------------------------------------------------------

  private void clientOp(Random r) {
    String id = "k" + (r.nextBoolean() ? r.nextInt(HOT_KEYS) : HOT_KEYS + r.nextInt(KEYS - HOT_KEYS));
    WriteConsistency[] levels = WriteConsistency.values();
    // Half the operations at consistency one: where a single replica's word is an acknowledgement.
    consistency.set(r.nextBoolean() ? WriteConsistency.ONE : levels[r.nextInt(levels.length)]);
    int pick = r.nextInt(10);
    ops++;
    String liaison = route(LIAISONS.get(r.nextInt(LIAISONS.size())), pick >= 2 && pick < 5);
    if (liaison == null) {
      ops--;
      step(250, "client op (liaisons busy)", () -> clientOp(r));
      return;
    }
    ManagedChannel via = clients.get(liaison);
    PropertyServiceGrpc.PropertyServiceBlockingStub stub = PropertyServiceGrpc.newBlockingStub(via)
        .withDeadlineAfter(60, TimeUnit.SECONDS);
    if (pick == 1) {
      // A limited query over every key, judged against the history where its answer is determined.
      StatusRuntimeException failed = queries.run(r, stub, seed, this::settle);
      if (failed != null) {
        noteServerError("limited query", "every key", failed);
      }
      settle();
      return;
    }
    if (pick < 2) {
      try {
        stub.query(QueryRequest.newBuilder().addGroups(GROUP).setName(SCHEMA).addIds(id).setLimit(10).build());
      } catch (StatusRuntimeException e) {
        // A query may fail while nodes are down; it changes nothing the checker judges. A server
        // error is a bug whatever the faults.
        noteServerError("query", id, e);
      }
      settle();
      return;
    }
    boolean delete = pick < 5;
    String value = delete ? null : "v" + seed + "-" + ops;
    History.Pending op = delete ? history.beginDelete(id) : history.beginWrite(id, value);
    TombstoneTimes.Window window = delete ? tombstoneTimes.begins(id, clock.now()) : null;
    try {
      if (delete) {
        stub.delete(DeleteRequest.newBuilder().setGroup(GROUP).setName(SCHEMA).setId(id).build());
      } else {
        stub.apply(ApplyRequest.newBuilder().setStrategy(ApplyRequest.Strategy.STRATEGY_REPLACE)
            .setProperty(Property.newBuilder().setMetadata(Metadata.newBuilder().setGroup(GROUP).setName(SCHEMA))
                .setId(id).addTags(Tag.newBuilder().setKey("v")
                    .setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue(value))))).build());
      }
      settle();
      op.end(History.Outcome.ACKED);
    } catch (StatusRuntimeException e) {
      settle();
      noteServerError(delete ? "delete" : "apply", id, e);
      // Refused before anything was sent: nothing can have landed. Anything else may have
      // reached some replicas (a partial write): its outcome is unknown.
      Status.Code c = e.getStatus().getCode();
      op.end(c == Status.Code.INVALID_ARGUMENT ? History.Outcome.FAILED : History.Outcome.UNKNOWN);
    }
    if (window != null) {
      deleteEnded(id, window);
    }
  }

  private void deleteEnded(String key, TombstoneTimes.Window window) {
    window.ended(clock.now());
    checkTombstoneTimes(key);
  }

  /**
   * The liaison an operation goes through: the one drawn unless a raced operation holds it (then
   * the other), and never an apply through a liaison whose clock is off beyond the allowed skew
   * (its stamps may fall below a version it did not see: last-write-wins promises nothing then,
   * while deletes through it are what the far skew tests). Null when no liaison fits now.
   */
  private String route(String drawn, boolean delete) {
    List<String> order = new ArrayList<>(List.of(drawn));
    LIAISONS.stream().filter(l -> !l.equals(drawn)).forEach(order::add);
    for (String l : order) {
      if ((races == null || !races.busy(l)) && (delete || !farSkewed.contains(l))) {
        return l;
      }
    }
    return null;
  }

  private static List<String> keys(int from, int to) {
    List<String> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      out.add("k" + i);
    }
    return out;
  }

  private Races.Run raceRun() {
    return new Races.Run() {
      @Override
      public void step(long delayMillis, String what, Runnable action) {
        Simulation.this.step(delayMillis, what, action);
      }

      @Override
      public void settle() {
        Simulation.this.settle();
      }

      @Override
      public void noteServerError(String what, String key, StatusRuntimeException e) {
        Simulation.this.noteServerError(what, key, e);
      }

      @Override
      public TombstoneTimes.Window deleteBegins(String key) {
        return tombstoneTimes.begins(key, clock.now());
      }

      @Override
      public void deleteEnded(String key, TombstoneTimes.Window window) {
        Simulation.this.deleteEnded(key, window);
      }

      @Override
      public boolean usable(String liaison, boolean delete) {
        return delete || !farSkewed.contains(liaison);
      }
    };
  }

  /**
   * INTERNAL (or UNKNOWN, a server exception gRPC could not map) is never an answer to faults:
   * a failure of the network or of a node is UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED and the like.
   */
  private void noteServerError(String what, String key, StatusRuntimeException e) {
    Status.Code c = e.getStatus().getCode();
    if (c == Status.Code.INTERNAL || c == Status.Code.UNKNOWN) {
      problems.add("a " + what + " of " + key + " failed with a server error at " + clock.elapsedMillis() + " ms: "
          + e.getStatus());
    }
  }

  /**
   * Waits until the liaison's calls this operation started have all ended (a write acknowledged
   * by one replica still goes to the others; read repairs are written after the query answered),
   * so no call of it runs alongside the next step. Bounded: a call that never ends is a hang.
   */
  private void settle() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      boolean quiet = true;
      String state = "";
      for (var e : liaisons.entrySet()) {
        long[] rr = e.getValue().readRepairCounts();
        boolean repairsDone = rr[0] == rr[1] + rr[3] + rr[4];
        // A raced operation's held calls wait for the step that releases them (see Races).
        quiet &= e.getValue().replicaCallsPending() == (races == null ? 0 : races.heldNow(e.getKey())) && repairsDone;
        state += " " + e.getKey() + ": " + e.getValue().replicaCallsPending() + " pending, read repairs "
            + java.util.Arrays.toString(rr);
      }
      if (quiet) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the liaisons' calls did not end within 30 s:" + state);
      }
      java.util.concurrent.locks.LockSupport.parkNanos(20_000);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Background repair and faults
  // ---------------------------------------------------------------------------------------------

  /** The node starts a round for a shard it is the first replica of (as the trigger does). */
  private void startRound(String id) {
    for (int s = 0; s < shards; s++) {
      List<DataNode> placed = Placement.of(dataNodes()).placeCapped(GROUP, s, copies);
      if (!placed.isEmpty() && placed.get(0).id().value().equals(id) && background.nextInt(2) == 0) {
        try {
          rounds.add(nodes.get(id).rounds().start(GROUP, s, null, "schedule"));
        } catch (RuntimeException e) {
          // Fewer than 2 replicas registered: nothing to repair now.
        }
      }
    }
  }

  private void begin(Fault f) {
    SimDataNode n = nodes.get(f.node());
    if (n == null && f.kind() != Fault.Kind.SKEW && f.kind() != Fault.Kind.FAR_SKEW
        && f.kind() != Fault.Kind.PARTITION) {
      return;
    }
    switch (f.kind()) {
      case CRASH -> {
        if (n.up()) {
          crashes++;
          n.crash();
        }
      }
      case STOP -> {
        if (n.up()) {
          stops++;
          n.stop();
        }
      }
      case PARTITION -> {
        partitions++;
        network.partition(Set.of(f.node()));
      }
      case CUT -> {
        partitions++;
        network.cut(Set.of(f.node()), Set.copyOf(LIAISONS));
      }
      case STORM -> {
        storms++;
        network.faults(new SimNetwork.Faults(0.2, 0.1, 0.1, 0.1, 0.02));
      }
      case SKEW -> skews.put(f.node(), skewOf(f));
      case POWER, FSYNC_FAIL -> crashes += SimDiskFaults.begin(f, n);
      case FAR_SKEW -> {
        skews.put(f.node(), farSkewOf(f));
        farSkewed.add(f.node());
        restartLiaison(f.node());
      }
      case GROUP_CHURN -> {
        groupChurns++;
        if (n.up()) {
          crashes++;
          n.crash();
        }
        step(f.forMillis() / 2, "recreate group", this::recreateGroupWhenIdle);
      }
    }
  }

  /**
   * How far the fault moves the clock: ahead or behind by up to the allowed skew, decided by its
   * start time so an edited or shrunk schedule keeps it.
   */
  private static long skewOf(Fault f) {
    long magnitude = MAX_SKEW.toNanos() / 1000 * (1 + f.atMillis() % 1000);
    return f.atMillis() % 2 == 0 ? magnitude : -magnitude;
  }

  /** Not while a raced operation is in flight: its liaison must not be used meanwhile. */
  private void recreateGroupWhenIdle() {
    if (races.any()) {
      step(100, "recreate group (a race in flight)", this::recreateGroupWhenIdle);
    } else {
      recreateGroup();
    }
  }

  /**
   * Behind by 2.5 to 6 times the allowed skew (5 to 12 s), decided by the fault's start time: a
   * fresh delete it stamps is then older, on any data node's clock (itself within the bound), than
   * a data node accepts — refused, instead of starting its tombstone's grace seconds early.
   */
  private static long farSkewOf(Fault f) {
    return -(MAX_SKEW.toNanos() * 5 / 2 + TimeUnit.MILLISECONDS.toNanos(f.atMillis() % 7_000));
  }

  /** Deletes the group and creates it again, through the liaison as a user would. */
  private void recreateGroup() {
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < KEYS; i++) {
      keys.add("k" + i);
    }
    History.PendingAll op = history.beginDeleteAll(keys);
    try {
      GroupRegistryServiceGrpc.newBlockingStub(client).withDeadlineAfter(60, TimeUnit.SECONDS)
          .delete(GroupRegistryServiceDeleteRequest.newBuilder().setGroup(GROUP).build());
      settle();
      op.end(History.Outcome.ACKED);
    } catch (StatusRuntimeException e) {
      settle();
      op.end(History.Outcome.UNKNOWN);
    }
    try {
      GroupRegistryServiceGrpc.newBlockingStub(client).withDeadlineAfter(60, TimeUnit.SECONDS)
          .create(GroupRegistryServiceCreateRequest.newBuilder().setGroup(group()).build());
      PropertyRegistryServiceGrpc.newBlockingStub(client).withDeadlineAfter(60, TimeUnit.SECONDS)
          .create(PropertyRegistryServiceCreateRequest.newBuilder().setProperty(schema()).build());
    } catch (StatusRuntimeException e) {
      problems.add("creating the group again failed: " + e.getStatus());
    }
    settle();
  }

  private Group group() {
    return Group.newBuilder().setMetadata(Metadata.newBuilder().setName(GROUP)).setCatalog(Catalog.CATALOG_PROPERTY)
        .setResourceOpts(ResourceOpts.newBuilder().setShardNum(shards).setReplicas(copies - 1)).build();
  }

  private dev.arbor.api.banyandb.database.v1.Property schema() {
    return dev.arbor.api.banyandb.database.v1.Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(GROUP).setName(SCHEMA))
        .addTags(TagSpec.newBuilder().setName("v").setType(TagType.TAG_TYPE_STRING)).build();
  }

  private void end(Fault f) {
    SimDataNode n = nodes.get(f.node());
    if (n == null && f.kind() != Fault.Kind.SKEW && f.kind() != Fault.Kind.FAR_SKEW
        && f.kind() != Fault.Kind.PARTITION) {
      return;
    }
    switch (f.kind()) {
      case CRASH, STOP, GROUP_CHURN -> {
        if (!n.up()) {
          n.start();
        }
      }
      case POWER, FSYNC_FAIL -> crashes += SimDiskFaults.end(f, n);
      case PARTITION, CUT -> network.heal();
      case STORM -> network.faults(baseFaults());
      case SKEW -> skews.put(f.node(), 0L);
      case FAR_SKEW -> {
        skews.put(f.node(), 0L);
        farSkewed.remove(f.node());
      }
    }
  }

  private void heal() {
    network.heal();
    network.faults(SimNetwork.Faults.NONE);
    for (SimDataNode n : nodes.values()) {
      if (!n.up()) {
        n.start();
      }
      skews.put(n.id, 0L);
    }
    LIAISONS.forEach(l -> skews.put(l, 0L));
    farSkewed.clear();
  }

  /**
   * Repairs every shard on a healed network until a round completes from every shard's first
   * replica: builds every node's tree of the shard first (a tree a session found missing is
   * rebuilt), then runs the round's hops to the end.
   */
  private void repairEverything() {
    for (int s = 0; s < shards; s++) {
      List<DataNode> placed = Placement.of(dataNodes()).placeCapped(GROUP, s, copies);
      if (placed.size() < 2) {
        continue;
      }
      boolean done = false;
      List<String> why = new ArrayList<>();
      for (int attempt = 0; attempt < 4 && !done; attempt++) {
        for (SimDataNode n : nodes.values()) {
          n.build(GROUP, s);
        }
        RepairRounds.Round round = nodes.get(placed.get(0).id().value()).rounds().start(GROUP, s, null, "manual");
        rounds.add(round);
        drain();
        RoundOutcome o = round.outcome().getNow(null);
        done = o != null && "COMPLETED".equals(o.getStatus());
        why.add(o == null ? "no outcome" : o.getStatus() + ": " + o.getMessage());
      }
      if (!done) {
        problems.add("the final repair of shard " + s + " did not complete in 4 rounds on a healed network: " + why);
      }
    }
  }

  /** Runs every waiting gossip hop, and the steps they schedule, to the end (bounded). */
  private void drain() {
    for (int i = 0; i < 10_000; i++) {
      boolean any = false;
      for (SimDataNode n : nodes.values()) {
        if (n.gossipStep()) {
          hops++;
          any = true;
        }
      }
      if (!any && !clock.runNext()) {
        return;
      }
    }
    problems.add("gossip did not go quiet within 10,000 steps (a round that never ends)");
  }

  // ---------------------------------------------------------------------------------------------
  // Checks
  // ---------------------------------------------------------------------------------------------

  private void checkRoundsEnded() {
    for (RepairRounds.Round r : rounds) {
      if (!r.outcome().isDone()) {
        problems.add("round " + r.id() + " of " + r.group() + "/" + r.shard() + " over " + r.nodes()
            + " never ended (past its deadline on a healed network)");
      }
    }
  }

  private void check() {
    Map<String, Map<String, String>> held = new LinkedHashMap<>();
    Map<String, List<String>> replicasOf = new HashMap<>();
    for (String key : history.keys()) {
      EntityKey k = new EntityKey(GROUP, SCHEMA, key);
      int shard = ShardRouter.shardOf(k, shards);
      List<String> placed = Placement.of(dataNodes()).placeCapped(GROUP, shard, copies).stream()
          .map(d -> d.id().value()).toList();
      replicasOf.put(key, placed);
      for (String id : placed) {
        PropertyRecord r = nodes.get(id).latest(GROUP, shard, k);
        held.computeIfAbsent(id, x -> new HashMap<>()).put(key, r == null || r.deleted() ? null : valueOf(r));
      }
    }
    ReplicaChecker.Report report = ReplicaChecker.check(history, held, k -> replicasOf.getOrDefault(k, List.of()));
    for (ReplicaChecker.Violation v : report.violations()) {
      problems.add(v.toString());
    }
  }

  private static String valueOf(PropertyRecord r) {
    try {
      for (Tag t : Property.parseFrom(r.source()).getTagsList()) {
        if (t.getKey().equals("v")) {
          return t.getValue().getStr().getValue();
        }
      }
      return "";
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return "<unreadable>";
    }
  }

  private Totals totals() {
    long completed = rounds.stream().filter(r -> r.outcome().isDone()
        && "COMPLETED".equals(r.outcome().getNow(null).getStatus())).count();
    long unfinished = rounds.stream().filter(r -> !r.outcome().isDone()).count();
    SimNetwork.Counts c = network.counts();
    long faulted = c.refused() + c.dropped() + c.repliesLost() + c.duplicated() + c.late() + c.streamsCut();
    return new Totals(ops, history.count(History.Outcome.ACKED), crashes, stops, partitions, storms, groupChurns,
        purged,
        rounds.size(), completed, unfinished, hops, clock.stepsRun(), c.delivered() + faulted, faulted,
        races == null ? 0 : races.races(), held.total(), queries == null ? 0 : queries.judged());
  }

  private void close() {
    clients.values().forEach(ManagedChannel::shutdownNow);
    liaisons.values().forEach(ReplicatedApi::close);
    liaisonNodes.values().forEach(DataNodes::close);
    runtimes.forEach(dev.arbor.runtime.NodeRuntime::close);
    for (SimDataNode n : nodes.values()) {
      if (n != null && n.up()) {
        try {
          n.stop();
        } catch (RuntimeException e) {
          problems.add("closing " + n.id + " failed: " + trace(e));
        }
      }
    }
    network.close();
    deleteTree(dir);
  }

  static String trace(Throwable e) {
    StringWriter w = new StringWriter();
    e.printStackTrace(new PrintWriter(w));
    String s = w.toString();
    return s.length() > 4000 ? s.substring(0, 4000) + "..." : s;
  }

  private static void deleteTree(Path p) {
    if (!Files.exists(p)) {
      return;
    }
    try (var walk = Files.walk(p)) {
      for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(q);
      }
    } catch (IOException e) {
      // A temp directory left behind is not a finding.
    }
  }
}
