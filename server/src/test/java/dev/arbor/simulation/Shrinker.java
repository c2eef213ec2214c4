package dev.arbor.simulation;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reduces a failing seed's fault schedule: drops one fault at a time and keeps the drop while
 * the seed (same workload) still fails, then halves each remaining fault's duration the same
 * way. What is left is a schedule in which every fault is needed for the failure.
 */
final class Shrinker {
  private static final int MAX_RUNS = 40;

  private Shrinker() {}

  static Simulation.Outcome shrink(Simulation.Outcome failed, Path dir, dev.arbor.property.DefectSwitches defects) {
    Simulation.Outcome best = failed;
    int runs = 0;
    boolean progress = true;
    while (progress && runs < MAX_RUNS) {
      progress = false;
      for (int i = 0; i < best.faults().size() && runs < MAX_RUNS; i++) {
        List<Fault> fewer = new ArrayList<>(best.faults());
        fewer.remove(i);
        Simulation.Outcome o = Simulation.run(best.seed(), dir.resolve("shrink-" + best.seed() + "-" + runs++), fewer,
            false, defects);
        if (o.failed()) {
          best = o;
          progress = true;
          break;
        }
      }
    }
    for (int i = 0; i < best.faults().size() && runs < MAX_RUNS; i++) {
      Fault f = best.faults().get(i);
      if (f.forMillis() < 200) {
        continue;
      }
      List<Fault> shorter = new ArrayList<>(best.faults());
      shorter.set(i, new Fault(f.kind(), f.atMillis(), f.forMillis() / 2, f.node()));
      Simulation.Outcome o = Simulation.run(best.seed(), dir.resolve("shrink-" + best.seed() + "-" + runs++), shorter,
          false, defects);
      if (o.failed()) {
        best = o;
        i--;
      }
    }
    return best;
  }
}
