package dev.arbor.repair.coverage;

import dev.arbor.api.repair.v1.CoverageAck;
import dev.arbor.api.repair.v1.CoverageNotice;
import java.util.concurrent.CompletableFuture;

/**
 * How a round's origin tells another node of the ring that the round covered it. Asynchronous:
 * returns at once, and the future completes with the node's answer or exceptionally with the
 * transport failure, so a simulated network can stand in for gRPC ({@link GrpcCoveragePeers}).
 */
@FunctionalInterface
public interface CoveragePeers {
  CompletableFuture<CoverageAck> covered(String address, CoverageNotice notice);
}
