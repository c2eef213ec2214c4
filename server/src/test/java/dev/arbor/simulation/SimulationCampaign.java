package dev.arbor.simulation;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs a range of seeds on a few threads (each seed on one thread, alone with its cluster) and
 * sums what they did. A failing seed is shrunk to the fewest faults that still fail it, and the
 * report gives the command that replays it.
 */
final class SimulationCampaign {
  static final String REPLAY = "./mvnw -B -o -pl harness,api,server -Dtest=SimulationTest"
      + " -Dsurefire.failIfNoSpecifiedTests=false test";

  /**
   * Seeds a CI run takes unless told otherwise: about 2 minutes on the quiet 2-core machine with
   * the workload of raced operations and judged queries (see docs/testing.md, "What a seed costs").
   * {@code -Darbor.sim.seeds} runs more.
   */
  static final long DEFAULT_SEEDS = 200;

  /** @param defect the defect switched on for the campaign ({@code -Darbor.sim.defect}), or null */
  record Result(long seeds, List<Simulation.Outcome> failures, Simulation.Totals totals, long millis,
      String defect) {
    String summaryLine() {
      return "simulation: " + seeds + " seeds, " + failures.size() + " failures (" + millis + " ms): "
          + totals.summary();
    }

    String failureReport() {
      StringBuilder b = new StringBuilder();
      for (Simulation.Outcome o : failures) {
        b.append("\nseed ").append(o.seed()).append(" failed with faults ").append(Fault.tokens(o.faults()))
            .append("\n  replay: ").append(REPLAY).append(" -Darbor.sim.seed=").append(o.seed())
            .append(" '-Darbor.sim.faults=").append(Fault.tokens(o.faults())).append("'")
            .append(defect == null ? "" : " -Darbor.sim.defect=" + defect)
            .append(SimDiskFaults.powerLoss() ? "" : " -Darbor.sim.powerLoss=false");
        o.problems().stream().limit(5).forEach(p -> b.append("\n  ").append(p));
      }
      return b.toString();
    }
  }

  private final Path dir;
  private final long firstSeed;
  private final long seeds;
  private final int threads;
  private final List<Fault> faults;
  private final boolean shrink;
  private final dev.arbor.property.DefectSwitches defects;

  SimulationCampaign(Path dir, long firstSeed, long seeds, int threads, List<Fault> faults, boolean shrink,
      dev.arbor.property.DefectSwitches defects) {
    this.defects = defects;
    this.dir = dir;
    this.firstSeed = firstSeed;
    this.seeds = seeds;
    this.threads = threads;
    this.faults = faults;
    this.shrink = shrink;
  }

  static SimulationCampaign fromSystemProperties(Path dir) {
    String one = System.getProperty("arbor.sim.seed");
    List<Fault> faults = System.getProperty("arbor.sim.faults") == null ? null
        : Fault.parse(System.getProperty("arbor.sim.faults"));
    int threads = Integer.getInteger("arbor.sim.threads", defaultThreads());
    boolean shrink = !"false".equals(System.getProperty("arbor.sim.shrink"));
    String defect = System.getProperty("arbor.sim.defect");
    dev.arbor.property.DefectSwitches defects = defect == null || defect.isBlank()
        ? dev.arbor.property.DefectSwitches.NONE
        : dev.arbor.property.DefectSwitches.of(dev.arbor.property.Defect.valueOf(defect.trim().toUpperCase()));
    if (one != null) {
      return new SimulationCampaign(dir, Long.parseLong(one), 1, 1, faults, shrink, defects);
    }
    long first = Long.getLong("arbor.sim.firstSeed", 1);
    long count = Long.getLong("arbor.sim.seeds", DEFAULT_SEEDS);
    return new SimulationCampaign(dir, first, count, threads, faults, shrink, defects);
  }

  /**
   * Where the runs keep their data directories: {@code -Darbor.sim.dir}, else a fresh directory
   * in {@code /dev/shm} when the machine has one (memory: a simulated fsync costs nothing, and
   * the crash model is the process's — what the page cache holds survives), else {@code fallback}.
   */
  static Path workDir(Path fallback) throws java.io.IOException {
    String given = System.getProperty("arbor.sim.dir");
    if (given != null) {
      return java.nio.file.Files.createDirectories(Path.of(given));
    }
    Path shm = Path.of("/dev/shm");
    if (java.nio.file.Files.isDirectory(shm) && java.nio.file.Files.isWritable(shm)) {
      return java.nio.file.Files.createTempDirectory(shm, "arbor-sim-");
    }
    return fallback;
  }

  /** Twice the cores: a seed's thread waits on the liaison's fan-out and the WAL's sync thread. */
  static int defaultThreads() {
    return Math.max(2, 2 * Runtime.getRuntime().availableProcessors());
  }

  long seedCount() {
    return seeds;
  }

  Result run() throws Exception {
    long t0 = System.nanoTime();
    AtomicLong next = new AtomicLong(firstSeed);
    long end = firstSeed + seeds;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<List<Simulation.Outcome>>> work = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      work.add(pool.submit(() -> {
        List<Simulation.Outcome> out = new ArrayList<>();
        for (long s = next.getAndIncrement(); s < end; s = next.getAndIncrement()) {
          String journals = System.getProperty("arbor.sim.journalDir");
          Simulation.Outcome o = Simulation.run(s, dir.resolve("seed-" + s), faults, journals != null, defects);
          if (journals != null) {
            java.nio.file.Files.createDirectories(Path.of(journals));
            java.nio.file.Files.write(Path.of(journals).resolve("seed-" + s + ".txt"), o.journal());
          }
          if (Boolean.getBoolean("arbor.sim.verbose")) {
            System.out.println("simulation seed " + s + (o.failed() ? " FAILED" : " ok") + " fingerprint "
                + Long.toHexString(o.fingerprint()) + ": " + o.totals().summary());
          }
          out.add(o);
        }
        return out;
      }));
    }
    pool.shutdown();
    List<Simulation.Outcome> failures = new ArrayList<>();
    Simulation.Totals totals = Simulation.Totals.ZERO;
    long ran = 0;
    for (Future<List<Simulation.Outcome>> f : work) {
      for (Simulation.Outcome o : f.get()) {
        ran++;
        totals = totals.plus(o.totals());
        if (o.failed()) {
          failures.add(shrink ? Shrinker.shrink(o, dir, defects) : o);
        }
      }
    }
    return new Result(ran, failures, totals, (System.nanoTime() - t0) / 1_000_000,
        defects.equals(dev.arbor.property.DefectSwitches.NONE) ? null : System.getProperty("arbor.sim.defect"));
  }
}
