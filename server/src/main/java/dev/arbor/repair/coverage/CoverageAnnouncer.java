package dev.arbor.repair.coverage;

import dev.arbor.runtime.NodeRuntime;
import dev.arbor.api.repair.v1.CoverageAck;
import dev.arbor.api.repair.v1.CoverageNotice;
import dev.arbor.cluster.PeerChannels;
import dev.arbor.transport.PeerFutures;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The origin's side of coverage: once one of its rounds covered its ring, tells every node of the
 * ring (itself directly), off the caller's thread. A node that misses the notice (down, network)
 * keeps its older watermark and purges later; the next covering round tells it again.
 */
public final class CoverageAnnouncer implements CoverageListener, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CoverageAnnouncer.class);

  private final String self;
  private final Function<String, Optional<String>> addressOf;
  private final CoveragePeers peers;
  private final Function<CoverageNotice, CoverageAck> local;
  private final ExecutorService sender;

  /**
   * @param addressOf the address of a registered node, empty when it is not registered
   * @param local records a notice on this node
   */
  public CoverageAnnouncer(NodeRuntime runtime, String self, Function<String, Optional<String>> addressOf,
      PeerChannels channels, Function<CoverageNotice, CoverageAck> local, Duration callTimeout) {
    this(runtime, self, addressOf, new GrpcCoveragePeers(channels, callTimeout), local);
  }

  /** As above, reaching the other nodes through {@code peers}. */
  public CoverageAnnouncer(NodeRuntime runtime, String self, Function<String, Optional<String>> addressOf,
      CoveragePeers peers, Function<CoverageNotice, CoverageAck> local) {
    this(self, addressOf, peers, local, runtime.newExecutor("arbor-coverage-announcer", 1, Integer.MAX_VALUE));
  }

  /**
   * As above, announcing on {@code sender} (one task per covered round; the deterministic
   * simulation passes one that runs it on the caller's thread). Closed with this announcer.
   */
  public CoverageAnnouncer(String self, Function<String, Optional<String>> addressOf, CoveragePeers peers,
      Function<CoverageNotice, CoverageAck> local, ExecutorService sender) {
    this.sender = sender;
    this.self = self;
    this.addressOf = addressOf;
    this.peers = peers;
    this.local = local;
  }

  @Override
  public void covered(String group, int shard, long roundStartNanos, String roundId, List<String> ring) {
    CoverageNotice n = CoverageNotice.newBuilder().setGroup(group).setShard(shard)
        .setRoundStartUnixNanos(roundStartNanos).setRoundId(roundId).addAllNodes(ring).setOriginNode(self).build();
    try {
      sender.execute(() -> ring.forEach(node -> tell(node, n)));
    } catch (RejectedExecutionException closing) {
      LOG.info("round {} covered {}/{} but this node is shutting down: the ring learns it at the next round",
          roundId, group, shard);
    }
  }

  private void tell(String node, CoverageNotice n) {
    try {
      CoverageAck ack;
      if (node.equals(self)) {
        ack = local.apply(n);
      } else {
        Optional<String> addr = addressOf.apply(node);
        if (addr.isEmpty()) {
          LOG.warn("coverage of {}/{} (round {}) not sent to {}: not registered", n.getGroup(), n.getShard(),
              n.getRoundId(), node);
          return;
        }
        // One node at a time, on the announcer's own thread.
        ack = PeerFutures.await(peers.covered(addr.get(), n));
      }
      if (!ack.getRecorded()) {
        LOG.debug("{} did not keep the coverage of round {}: {}", node, n.getRoundId(), ack.getReason());
      }
    } catch (RuntimeException e) {
      LOG.warn("coverage of {}/{} (round {}) not delivered to {}: {}", n.getGroup(), n.getShard(), n.getRoundId(),
          node, e.getMessage());
    }
  }

  @Override
  public void close() {
    sender.shutdown();
    try {
      sender.awaitTermination(15, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
