package dev.arbor.simulation;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The disk faults of a seed's schedule and what they do to a node: a power loss (the node's
 * unsynced writes are lost, see {@link SimDisk}) in half the seeds, and in a quarter a period in
 * which the write-ahead log's fsyncs fail, ended by power-cycling the machine (the harshest end:
 * whatever the failed fsyncs dropped is gone). Drawn from their own random stream so that the
 * other faults of a seed are those it had before disk faults existed.
 */
final class SimDiskFaults {
  /**
   * Power losses in the seeds' own schedules, and an fsync failure ended by a power cycle rather
   * than a {@code kill -9}; {@code -Darbor.sim.powerLoss=false} turns them off (to tell whether a
   * failure needs one). They found that the server never fsynced the parent of a directory it
   * created ({@code wal/}, {@code data/}, a shard's directory), so a power loss emptied a node's
   * data directory and lost the acknowledged writes it alone held (seeds 13, 25, 38 of an earlier
   * workload; fixed by {@code DurableDirectories}).
   */
  static boolean powerLoss() {
    return !"false".equals(System.getProperty("arbor.sim.powerLoss"));
  }

  static List<Fault> schedule(Random r, List<String> nodeIds) {
    List<Fault> out = new ArrayList<>();
    // Drawn whether or not power losses are on, so the flag changes nothing else of a schedule.
    if (r.nextInt(2) == 0) {
      Fault power = new Fault(Fault.Kind.POWER, 2_000 + r.nextInt(48_000), 500 + r.nextInt(7_500),
          nodeIds.get(r.nextInt(nodeIds.size())));
      if (powerLoss()) {
        out.add(power);
      }
    }
    if (r.nextInt(4) == 0) {
      out.add(new Fault(Fault.Kind.FSYNC_FAIL, 2_000 + r.nextInt(44_000), 500 + r.nextInt(5_500),
          nodeIds.get(r.nextInt(nodeIds.size()))));
    }
    return out;
  }

  /** Starts a disk fault on {@code n}; returns how many crashes (power losses) that was. */
  static int begin(Fault f, SimDataNode n) {
    if (!n.up()) {
      return 0;
    }
    if (f.kind() == Fault.Kind.POWER) {
      n.powerLoss();
      return 1;
    }
    n.failWalFsyncs(true);
    if (f.atMillis() % 2 == 0) {
      // Half the failures hit a checkpoint first (production's checkpoints run on a background
      // thread, whenever the log has grown): the segment roll's fsync is the first to fail.
      n.checkpoint();
    }
    return 0;
  }

  /** Ends it: a powered-off node restarts; a node whose disk failed is power-cycled and restarts. */
  static int end(Fault f, SimDataNode n) {
    int crashes = 0;
    n.failWalFsyncs(false);
    if (f.kind() == Fault.Kind.FSYNC_FAIL && n.up()) {
      if (powerLoss()) {
        n.powerLoss();
      } else {
        n.crash();
      }
      crashes++;
    }
    if (!n.up()) {
      n.start();
    }
    return crashes;
  }
}
