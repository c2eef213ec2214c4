package dev.arbor.observability;

import dev.arbor.repair.tree.RepairTrees;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/** Repair-tree build metrics (spec §10.1's build-tree counters, under Arbor's prefix). */
public final class TreeMetrics {
  private TreeMetrics() {}

  public static void bind(RepairTrees trees, MeterRegistry registry) {
    FunctionCounter.builder("arbor.repair.tree.builds.finished", trees, RepairTrees::buildsFinished)
        .description("tree builds that produced a tree").register(registry);
    FunctionCounter.builder("arbor.repair.tree.builds.failed", trees, RepairTrees::buildsFailed)
        .description("tree builds that failed").register(registry);
    FunctionCounter.builder("arbor.repair.tree.builds.conflicts", trees, RepairTrees::buildsBusy)
        .description("build requests skipped because the shard was already building").register(registry);
    FunctionCounter.builder("arbor.repair.tree.build.seconds", trees, t -> t.buildNanos() / 1e9)
        .description("cumulative wall time of finished builds").register(registry);
    Gauge.builder("arbor.repair.tree.served", trees, RepairTrees::servedTrees)
        .description("shards serving a tree").register(registry);
    Gauge.builder("arbor.repair.tree.live", trees, RepairTrees::liveTrees)
        .description("shards whose tree follows every write (sessions need no rebuild)").register(registry);
    FunctionCounter.builder("arbor.tree.scrub.mismatches", trees, RepairTrees::scrubMismatches)
        .description("scrubs (builds from a snapshot) whose tree differed from the incremental one; healed")
        .register(registry);
    FunctionCounter.builder("arbor.tree.scrub.leaves", trees, RepairTrees::scrubbedLeaves)
        .description("leaves read from snapshots by tree builds and scrubs").register(registry);
    FunctionCounter.builder("arbor.repair.tree.resumed", trees, RepairTrees::resumed)
        .description("live trees resumed after a restart from their journal and the WAL, without a build")
        .register(registry);
    FunctionCounter.builder("arbor.repair.tree.resume.failures", trees, RepairTrees::resumeFailures)
        .description("journals of live trees refused after a restart (corrupt, of another tree file, or older than"
            + " the replayed WAL); the tree is rebuilt").register(registry);
  }
}
