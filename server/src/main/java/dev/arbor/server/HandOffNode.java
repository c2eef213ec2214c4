package dev.arbor.server;

import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.Placement;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.repair.coverage.ReplicaRings;
import dev.arbor.repair.handoff.AbsenceFence;
import dev.arbor.repair.handoff.CopyOwnership;
import dev.arbor.repair.handoff.GrpcOwnerWriter;
import dev.arbor.repair.handoff.HandOff;
import dev.arbor.repair.handoff.HandOffSettings;
import dev.arbor.repair.handoff.LastAlive;
import dev.arbor.repair.handoff.OrphanHandOffs;
import dev.arbor.repair.handoff.OrphanTracker;
import dev.arbor.repair.handoff.ShardRef;
import dev.arbor.runtime.NodeRuntime;
import dev.arbor.storage.CopyFence;
import dev.arbor.storage.PropertyStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hand-off of shard copies this data node no longer owns, wired: ownership from placement over
 * the registered data nodes, the orphan tracker (also the fence that writes and repair check), the
 * background hand-off, and the long-absence fence decided at start from the last-alive file.
 */
final class HandOffNode implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HandOffNode.class);
  private static final Duration PUSH_DEADLINE = Duration.ofSeconds(30);

  private final OrphanTracker tracker;
  private final OrphanHandOffs handOffs;
  private final GrpcOwnerWriter writer;

  private HandOffNode(OrphanTracker tracker, OrphanHandOffs handOffs, GrpcOwnerWriter writer) {
    this.tracker = tracker;
    this.handOffs = handOffs;
    this.writer = writer;
  }

  static HandOffNode create(NodeRuntime runtime, String nodeId, ServerConfig config, PropertyStore store, MetadataStore metadata,
      Supplier<List<DataNode>> dataNodes, MeterRegistry meters, dev.arbor.transport.ChannelFactory peers) {
    HandOffSettings settings = config.repair().handOff();
    CopyOwnership ownership = new CopyOwnership(nodeId, dataNodes, g -> copies(metadata, g));
    OrphanTracker tracker = new OrphanTracker(ownership,
        () -> store.allShards().stream().map(s -> new ShardRef(s.group(), s.shard())).toList(),
        settings.debounce(), runtime.ticker()::read);
    CountDownLatch closed = new CountDownLatch(1);
    GrpcOwnerWriter writer = new GrpcOwnerWriter(PUSH_DEADLINE, peers);
    HandOff handOff = new HandOff(store, ownership, writer, settings, runtime.ticker()::read, d -> {
      try {
        return !closed.await(d.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    });
    LastAlive lastAlive = new LastAlive(config.dataDir().resolve("last-alive"));
    Duration grace = config.tombstoneGrace();
    Duration skew = config.repair().maxClockSkew();
    OrphanHandOffs handOffs = new OrphanHandOffs(runtime, tracker, handOff, store, settings, grace, skew, lastAlive,
        closed, meters);
    Optional<String> away;
    try {
      away = AbsenceFence.check(lastAlive.read(), runtime.wallClock().instant(), grace, skew);
    } catch (IOException e) {
      LOG.error("the last-alive file is unreadable: {}; this node fences its replicated copies (handed off, dropped"
          + " and refilled by repair) and writes the file anew once they are dropped; nothing to do", e.getMessage());
      away = Optional.of(AbsenceFence.unreadable(e.getMessage()));
    }
    away.ifPresent(why -> handOffs.fence(store.allShards().stream()
        .filter(s -> copies(metadata, s.group()).isPresent())
        .map(s -> new ShardRef(s.group(), s.shard())).toList(), why));
    return new HandOffNode(tracker, handOffs, writer);
  }

  private static OptionalInt copies(MetadataStore metadata, String group) {
    return metadata.group(group).filter(ReplicaRings::replicated)
        .map(g -> OptionalInt.of(Placement.copies(g.getResourceOpts().getReplicas())))
        .orElseGet(OptionalInt::empty);
  }

  /** Copies that must not be written nor repaired: orphans until they are dropped. */
  CopyFence fence() {
    return tracker;
  }

  /** Starts the checks; call once this node is registered (before, it is in no placement). */
  void start() {
    handOffs.start();
  }

  @Override
  public void close() {
    handOffs.close();
    writer.close();
  }
}
