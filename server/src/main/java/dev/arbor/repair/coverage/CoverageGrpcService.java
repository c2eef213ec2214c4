package dev.arbor.repair.coverage;

import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.repair.v1.CoverageAck;
import dev.arbor.api.repair.v1.CoverageNotice;
import dev.arbor.api.repair.v1.CoverageServiceGrpc;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code arbor.repair.v1.CoverageService}: keeps the watermark a round's origin announces, when
 * this node is in the round's ring and the shard exists. Also how the origin records its own.
 */
public final class CoverageGrpcService extends CoverageServiceGrpc.CoverageServiceImplBase {
  private static final Logger LOG = LoggerFactory.getLogger(CoverageGrpcService.class);

  private final String self;
  private final ReplicaRings rings;
  private final WatermarkStore watermarks;
  private final LongSupplier wallNanos;
  private final long maxAheadNanos;

  /**
   * @param wallNanos this node's wall clock (ns since the epoch)
   * @param maxAhead how far ahead of it a round may have started (the clock skew tolerated between nodes)
   */
  public CoverageGrpcService(String self, ReplicaRings rings, WatermarkStore watermarks, LongSupplier wallNanos,
      Duration maxAhead) {
    this.self = self;
    this.rings = rings;
    this.watermarks = watermarks;
    this.wallNanos = wallNanos;
    this.maxAheadNanos = maxAhead.toNanos();
  }

  @Override
  public void covered(CoverageNotice n, StreamObserver<CoverageAck> out) {
    out.onNext(accept(n));
    out.onCompleted();
  }

  public CoverageAck accept(CoverageNotice n) {
    String problem = check(n);
    if (problem != null) {
      LOG.info("coverage notice of round {} for {}/{} not kept: {}", n.getRoundId(), n.getGroup(), n.getShard(),
          problem);
      return CoverageAck.newBuilder().setRecorded(false).setReason(problem).build();
    }
    boolean kept = watermarks.record(n.getGroup(), n.getShard(),
        new CoverageWatermark(n.getRoundStartUnixNanos(), n.getRoundId(), n.getNodesList()));
    if (!kept) {
      return CoverageAck.newBuilder().setRecorded(false).setReason("a later round is already kept").build();
    }
    LOG.debug("coverage watermark of {}/{} is now round {}", n.getGroup(), n.getShard(), n.getRoundId());
    return CoverageAck.newBuilder().setRecorded(true).build();
  }

  private String check(CoverageNotice n) {
    if (!n.getNodesList().contains(self)) {
      return "node " + self + " is not in the round's ring " + n.getNodesList();
    }
    Optional<Group> g = rings.group(n.getGroup());
    if (g.isEmpty()) {
      return "group " + n.getGroup() + " is not known on " + self;
    }
    int shards = g.get().getResourceOpts().getShardNum();
    if (Integer.compareUnsigned(n.getShard(), shards) >= 0) {
      return "shard " + Integer.toUnsignedString(n.getShard()) + " is out of range (" + shards + " shards)";
    }
    if (n.getRoundStartUnixNanos() <= 0) {
      return "round_start_unix_nanos must be > 0";
    }
    // A watermark from the future would be kept over every later round's (only a later start
    // replaces it) and let the shard purge by the grace alone: deletes a replica missed could
    // come back. No correct origin's round starts further ahead than the tolerated skew.
    long now = wallNanos.getAsLong();
    if (n.getRoundStartUnixNanos() - now > maxAheadNanos) {
      return "round_start_unix_nanos " + n.getRoundStartUnixNanos() + " is "
          + Duration.ofNanos(n.getRoundStartUnixNanos() - now) + " ahead of this node's clock (at most "
          + Duration.ofNanos(maxAheadNanos) + " is accepted)";
    }
    return null;
  }
}
