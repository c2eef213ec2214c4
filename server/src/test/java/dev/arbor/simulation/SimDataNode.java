package dev.arbor.simulation;

import com.google.common.util.concurrent.MoreExecutors;
import dev.arbor.api.repair.v1.RoundReport;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.PeerChannels;
import dev.arbor.datanode.DataNodeGrpcService;
import dev.arbor.datanode.ResponseBudget;
import dev.arbor.metadata.MetadataGroupIncarnations;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.metadata.SchemaLookup;
import dev.arbor.observability.RepairMetrics;
import dev.arbor.observability.trace.SpanRecorder;
import dev.arbor.observability.trace.Tracer;
import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.RevisionBound;
import dev.arbor.query.QueryPlanner;
import dev.arbor.repair.GrpcGossipPeers;
import dev.arbor.repair.RepairRounds;
import dev.arbor.repair.coverage.CoverageAnnouncer;
import dev.arbor.repair.coverage.CoverageGrpcService;
import dev.arbor.repair.coverage.CoveragePurgeCutoff;
import dev.arbor.repair.coverage.GrpcCoveragePeers;
import dev.arbor.repair.coverage.ReplicaRings;
import dev.arbor.repair.coverage.WatermarkStore;
import dev.arbor.repair.gossip.GossipGrpcService;
import dev.arbor.repair.gossip.PropagationQueue;
import dev.arbor.repair.gossip.PropagationWorker;
import dev.arbor.repair.sync.RepairGrpcService;
import dev.arbor.repair.sync.RepairSessionClient;
import dev.arbor.repair.sync.ShardCheck;
import dev.arbor.repair.tree.RepairTrees;
import dev.arbor.server.RepairConfig;
import dev.arbor.storage.CopyFence;
import dev.arbor.storage.IncarnationGate;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.PurgeCutoff;
import dev.arbor.storage.StoreEvents;
import dev.arbor.transport.ChannelFactory;
import io.grpc.BindableService;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * One data node of the simulation, composed the way the data node's composition root composes
 * it — the real property store on a real data directory, its repair trees following writes, the
 * internal {@code DataNodeService}, the repair session server and client, the gossip queue and
 * worker, rounds, coverage watermarks and the coverage purge cutoff — minus the threads: the
 * gossip worker runs one round per {@link #gossipStep} and tree rebuilds are simulation steps,
 * so the simulation decides every interleaving. Its clock is the virtual one plus this node's
 * skew. Its data directory is reached through a {@link SimDisk}, which knows what a power loss
 * keeps.
 */
final class SimDataNode {
  private static final int MAX_MESSAGE = 64 << 20;
  /** Sessions never wait for a build in real time: the build is a later simulation step. */
  private static final Duration TREE_WAIT = Duration.ofMillis(1);
  private static final Duration METADATA_LAG = Duration.ofMillis(1);
  private static final Duration REPLY_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
  /**
   * Refreshes and commits never wait for merges: a query's refresh otherwise waits for Lucene to
   * merge the segments it just flushed (milliseconds each, about a third of a seed's time, and no
   * logical content changes). The server keeps Lucene's wait.
   */
  private static final dev.arbor.storage.IndexTuning INDEX_TUNING =
      dev.arbor.storage.IndexTuning.DEFAULT.withoutFullFlushMergeWait();

  final String id;
  private final Path home;
  private final MetadataStore metadata;
  private final Supplier<List<DataNode>> dataNodes;
  private final SimNetwork network;
  private final RepairConfig repair;
  private final Duration grace;
  private final BiConsumer<String, Integer> rebuildRequests;
  private final LongSupplier wallNanos;
  private final SimThreads threads;
  private final dev.arbor.property.DefectSwitches defects;
  private dev.arbor.runtime.NodeRuntime runtime;
  private int generation;
  /** The disk under the current generation's directory: what a power loss would keep. */
  private SimDisk disk = new SimDisk();

  private PropertyStore store;
  private RepairTrees trees;
  private PeerChannels channels;
  private PropagationQueue queue;
  private PropagationWorker worker;
  private RepairRounds rounds;
  private WatermarkStore watermarks;
  private PurgeCutoff purge;
  private dev.arbor.datanode.GroupDataKeeper keeper;

  /**
   * @param rebuildRequests where a session's request to rebuild a tree goes (the simulation
   *     schedules the build as a step)
   */
  SimDataNode(String id, Path home, MetadataStore metadata, Supplier<List<DataNode>> dataNodes, SimNetwork network,
      RepairConfig repair, Duration grace, LongSupplier wallNanos, BiConsumer<String, Integer> rebuildRequests,
      dev.arbor.property.DefectSwitches defects, SimThreads threads) {
    this.threads = threads;
    this.defects = defects;
    this.id = id;
    this.home = home;
    this.metadata = metadata;
    this.dataNodes = dataNodes;
    this.network = network;
    this.repair = repair;
    this.grace = grace;
    this.wallNanos = wallNanos;
    this.rebuildRequests = rebuildRequests;
    // Registered once (metadata keeps its listeners); a node that is down hears nothing, as a
    // process that is not running would not.
    metadata.addListener(e -> {
      if (!up()) {
        return;
      }
      if (e.observedDeleteOf().isPresent()) {
        watermarks.dropGroup(e.groupName());
      }
      keeper.onEvent(e);
    });
  }

  boolean up() {
    return store != null;
  }

  /** The data directory as production code sees it: through the disk, which models the page cache. */
  private Path dataDir() {
    return disk.path(realDir());
  }

  private Path realDir() {
    return home.resolve("gen-" + generation);
  }

  /** Opens (recovering) the store and trees and serves the node's services on the network. */
  void start() {
    // The node's clocks are the simulation's (plus this node's skew); its timers are steps.
    runtime = new dev.arbor.runtime.NodeRuntime(threads::ticker, wallNanos::getAsLong, threads,
        Duration.ofSeconds(5));
    try {
      Files.createDirectories(dataDir());
      StoreEvents events = new StoreEvents();
      store = PropertyStore.open(dataDir(), new MetadataGroupIncarnations(metadata), events,
          dev.arbor.storage.WriteGuard.NONE, defects, runtime, INDEX_TUNING);
      trees = new RepairTrees(runtime, dataDir().resolve("repair"), store, 64, 0,
          RepairTrees.DEFAULT_MAX_OVERLAY_LEAVES);
      trees.loadExisting(g -> metadata.group(g).isPresent() && !store.quarantinedAtOpen().contains(g));
      trees.followWrites(events);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    RepairMetrics metrics = new RepairMetrics(meters, () -> wallNanos.getAsLong() / 1_000_000);
    Tracer tracer = new Tracer(id, SpanRecorder.NONE, wallNanos::getAsLong);
    ChannelFactory peers = network.channelsFrom(id);
    channels = new PeerChannels(peers, MAX_MESSAGE);
    ShardCheck counts = group -> metadata.group(group)
        .map(g -> OptionalInt.of(g.getResourceOpts().getShardNum())).orElseGet(OptionalInt::empty);
    ShardCheck shardCheck = counts.bounded(RevisionBound.of(wallNanos, repair.maxClockSkew())).withDefects(defects);
    IncarnationGate incarnations = new IncarnationGate(store, new MetadataGroupIncarnations(metadata), METADATA_LAG);
    RepairGrpcService sessions = new RepairGrpcService(store, trees, shardCheck, incarnations, TREE_WAIT, tracer,
        metrics, rebuildRequests, null, repair.bulk());
    RepairSessionClient client = new RepairSessionClient(id, store, trees, shardCheck, incarnations, TREE_WAIT,
        REPLY_TIMEOUT, metrics, rebuildRequests, repair.bulk());
    GrpcGossipPeers gossipPeers = new GrpcGossipPeers(dataNodes, channels, CALL_TIMEOUT);
    ReplicaRings rings = new ReplicaRings(metadata, dataNodes);
    watermarks = WatermarkStore.open(dataDir().resolve("coverage").resolve("watermarks.txt"));
    CoverageGrpcService coverage = new CoverageGrpcService(id, rings, watermarks, wallNanos, repair.maxClockSkew());
    CoverageAnnouncer announcer = new CoverageAnnouncer(id, gossipPeers::address,
        new GrpcCoveragePeers(channels, CALL_TIMEOUT), coverage::accept, MoreExecutors.newDirectExecutorService());
    queue = new PropagationQueue(repair.coalesceTtl(), threads::ticker);
    AtomicReference<RepairRounds> roundsRef = new AtomicReference<>();
    java.util.function.Consumer<RoundReport> reports = r -> {
      RepairRounds rr = roundsRef.get();
      if (rr != null) {
        rr.onReport(r);
      }
    };
    worker = new PropagationWorker(runtime, id, queue,
        (peer, address, group, shard, trace, deadline) ->
            client.run(channels.channel(address), peer, group, shard, trace, deadline),
        gossipPeers, tracer, metrics, reports, repair.sessionTimeout(), 1);
    GossipGrpcService gossip = new GossipGrpcService(id, queue, worker, tracer, metrics, reports, shardCheck::refuse);
    rounds = new RepairRounds(runtime, id, metadata, dataNodes, gossip::offer, gossipPeers, tracer, metrics,
        repair.roundTimeout(), announcer);
    roundsRef.set(rounds);
    purge = new CoveragePurgeCutoff(rings, watermarks, wallNanos, grace, repair.maxClockSkew(), defects);
    SchemaLookup lookup = new SchemaLookup(metadata);
    DataNodeGrpcService internal = new DataNodeGrpcService(lookup, store, new QueryPlanner(lookup, store),
        incarnations, RevisionBound.of(wallNanos, repair.maxClockSkew()), CopyFence.NONE, METADATA_LAG,
        ResponseBudget.DEFAULT, defects);
    keeper = new dev.arbor.datanode.GroupDataKeeper(store, java.util.Optional::empty);
    // Changes made while the node was down were not heard: reconciled as the data node does at start.
    store.groupsOnDisk().forEach(keeper::reconcile);
    network.serve(id, List.<BindableService>of(internal, sessions, gossip, coverage));
  }

  /** Runs one waiting gossip hop (a session with the next node, then the hand-on); false when none waits. */
  boolean gossipStep() {
    return up() && worker.runOne();
  }

  boolean gossipPending() {
    return up() && queue.pending() > 0;
  }

  RepairRounds rounds() {
    return rounds;
  }

  /** Builds the tree of (group, shard) now (a rebuild a session asked for, or the final check's). */
  void build(String group, int shard) {
    if (up() && metadata.group(group).isPresent()) {
      trees.build(group, shard, false);
    }
  }

  void checkpoint() {
    if (up()) {
      try {
        store.checkpoint();
      } catch (IOException | RuntimeException e) {
        // After the disk failed an fsync the node's background loop logs a failed checkpoint and
        // carries on, as production's does; any other failure is a failure of the seed.
        if (disk.failedFsyncs() == 0) {
          throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
        // A failed fsync may have dropped pages a later fsync would not write: the log must
        // refuse writes from now on, whichever fsync failed (a roll's too).
        if (store.storageProblems().isEmpty()) {
          throw new IllegalStateException("node " + id + ": a checkpoint failed after the disk failed "
              + disk.failedFsyncs() + " fsync(s) of the write-ahead log, yet the store still takes writes (the log"
              + " did not latch): " + e, e);
        }
      }
    }
  }

  /** Purges the tombstones the coverage cutoff allows; returns how many went. */
  long purge() {
    if (!up()) {
      return 0;
    }
    long before = store.purgedTombstones();
    try {
      store.purgeTombstones(purge);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return store.purgedTombstones() - before;
  }

  /** This node's latest copy of a key (tombstones included), or null. */
  PropertyRecord latest(String group, int shard, EntityKey key) {
    return store.latest(group, shard, key);
  }

  /**
   * A crash: the data directory as the process left it (what the page cache held included) is
   * what the next start finds; nothing is checkpointed or flushed first. The old directory is
   * copied aside, then the running objects are closed without being trusted.
   */
  void crash() {
    Path from = realDir();
    generation++;
    copyTree(from, realDir());
    shutDown();
    // What the page cache held is taken as written back (the kernel does within half a minute):
    // the restarted node's disk starts with all of it durable.
    disk = new SimDisk();
  }

  /**
   * A power loss: the next start finds only what the disk made durable (see {@link SimDisk}).
   * Imaged aside, then the running objects are closed without being trusted, as at a crash.
   */
  void powerLoss() {
    Path from = realDir();
    generation++;
    try {
      disk.powerImage(from, realDir());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    disk.failFsyncs(null);
    shutDown();
    disk = new SimDisk();
  }

  /** From now on (or, with false, no longer) the write-ahead log's fsyncs fail with EIO. */
  void failWalFsyncs(boolean fail) {
    Path wal = realDir().resolve("wal");
    disk.failFsyncs(fail ? p -> p.startsWith(wal) : null);
  }

  /** Why the store refuses writes now (a failed log, a failed shard); empty while healthy or down. */
  List<String> storageProblems() {
    return up() ? store.storageProblems() : List.of();
  }

  /** A clean stop: checkpoint, close, restart later on the same directory. */
  void stop() {
    shutDown();
  }

  private void shutDown() {
    network.unserve(id);
    rounds.close();
    worker.close();
    channels.close();
    try {
      trees.stopBuilds();
      store.close();
    } catch (IOException e) {
      // The log's last fsync failing on a failing disk: the process exits all the same.
      if (disk.failedFsyncs() == 0) {
        throw new UncheckedIOException(e);
      }
    } finally {
      trees.close();
      store = null;
      runtime.close();
      // A disk's fsync failure is a fault of this run of the process; the next start finds a working disk.
      disk.failFsyncs(null);
    }
  }

  private static void copyTree(Path from, Path to) {
    try {
      Files.walkFileTree(from, new java.nio.file.SimpleFileVisitor<>() {
        @Override
        public java.nio.file.FileVisitResult preVisitDirectory(Path dir,
            java.nio.file.attribute.BasicFileAttributes attrs) throws IOException {
          Files.createDirectories(to.resolve(from.relativize(dir).toString()));
          return java.nio.file.FileVisitResult.CONTINUE;
        }

        @Override
        public java.nio.file.FileVisitResult visitFile(Path p, java.nio.file.attribute.BasicFileAttributes attrs)
            throws IOException {
          String name = p.getFileName().toString();
          if (!name.endsWith(".lock")) {
            try {
              Files.copy(p, to.resolve(from.relativize(p).toString()), StandardCopyOption.REPLACE_EXISTING);
            } catch (java.nio.file.NoSuchFileException gone) {
              // A file being replaced at the crash: it is not in the image, as after a real crash.
            }
          }
          return java.nio.file.FileVisitResult.CONTINUE;
        }

        @Override
        public java.nio.file.FileVisitResult visitFileFailed(Path p, IOException e) throws IOException {
          // Deleted between listing and reading (a background merge's temporary file): not in the image.
          if (e instanceof java.nio.file.NoSuchFileException) {
            return java.nio.file.FileVisitResult.CONTINUE;
          }
          throw e;
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

}
