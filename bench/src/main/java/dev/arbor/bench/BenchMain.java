package dev.arbor.bench;

import java.util.Arrays;

/**
 * Entry point of {@code bench/target/arbor-bench.jar}:
 *
 * <ul>
 *   <li>{@code api [options]}: the gRPC API benchmark ({@link ApiBenchmark});
 *   <li>{@code jmh [JMH options]}: the JMH micro-benchmarks in {@code dev.arbor.bench.jmh};
 *   <li>{@code tree [options]}: the repair-tree build benchmark
 *       ({@code dev.arbor.bench.tree.TreeBenchRunner});
 *   <li>{@code repair [options]}: the repair scenarios on a real multi-process cluster
 *       ({@code dev.arbor.bench.repair.RepairBench});
 *   <li>{@code ingest [options]}: the receiver's storage cost per property of a record-mode
 *       repair, in-process ({@code dev.arbor.bench.storage.IngestBench});
 *   <li>{@code ceiling [options]}: the no-storage gRPC server that {@code api --ceiling} starts
 *       ({@code dev.arbor.bench.ceiling.CeilingServer}), to run by hand.
 * </ul>
 */
public final class BenchMain {
  private BenchMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
      System.out.println("""
          usage: java -jar bench/target/arbor-bench.jar <api|jmh|tree|repair|ingest|ceiling> [options]
            api     gRPC API benchmark against a standalone server (api --help for options);
                    old vs new: api --server-jar old=OLD.jar --server-jar new=NEW.jar [--ceiling];
                    clusters vs standalone: api --deployment standalone,dev-cluster,processes
            jmh     JMH micro-benchmarks (jmh -h for JMH's options; jmh -l to list)
            tree    repair-tree build benchmark (dev.arbor.bench.tree.TreeBenchRunner)
            repair  repair scenarios on a real cluster of processes (repair --help for options);
                    old vs new: repair --server-jar old=OLD.jar --server-jar new=NEW.jar
            ingest  in-process record-mode ingest into a store, CPU per property (ingest --help)
            ceiling the no-storage gRPC server `api --ceiling` starts (ceiling --help)""");
      System.exit(args.length == 0 ? 2 : 0);
    }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    switch (args[0]) {
      case "api" -> ApiBenchmark.main(rest);
      case "jmh" -> org.openjdk.jmh.Main.main(rest.length == 0
          ? new String[] {"dev.arbor.bench.jmh"} : rest);
      case "tree" -> dev.arbor.bench.tree.TreeBenchRunner.main(rest);
      case "repair" -> dev.arbor.bench.repair.RepairBench.main(rest);
      case "ingest" -> dev.arbor.bench.storage.IngestBench.main(rest);
      case "ceiling" -> dev.arbor.bench.ceiling.CeilingServer.main(rest);
      default -> {
        System.err.println("unknown benchmark: " + args[0] + " (expected api, jmh, tree, repair, ingest or ceiling)");
        System.exit(2);
      }
    }
  }
}
