package dev.arbor.repair;

import dev.arbor.api.repair.v1.RepairProgress;
import dev.arbor.api.repair.v1.RoundReport;
import dev.arbor.api.repair.v1.RunRepairRequest;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * One {@code RunRepair} request carried out: starts the round of each shard asked for (up to
 * {@link #ROUND_WINDOW} at once) and hands every progress event to a consumer as it comes — the
 * ring first, each hop, then the outcome of each round. Shared by the gRPC admin service and the
 * web console, which only differ in where the events go.
 */
public final class RepairRun {
  /** Rounds of one request running at once. */
  static final int ROUND_WINDOW = 4;

  private RepairRun() {}

  /**
   * Runs the request to its end (every round reported an outcome) or until {@code cancelled}
   * says the caller went away (the rounds go on; their outcomes are still logged).
   *
   * @throws dev.arbor.errors.InvalidArgumentException a bad timeout, group or shard
   */
  public static void run(RepairRounds rounds, RunRepairRequest req, Consumer<RepairProgress> out,
      BooleanSupplier cancelled) throws InterruptedException {
    if (req.getTimeoutMs() < 0) {
      throw new dev.arbor.errors.InvalidArgumentException("timeout_ms must be >= 0");
    }
    Duration timeout = req.getTimeoutMs() == 0 ? rounds.defaultTimeout() : Duration.ofMillis(req.getTimeoutMs());
    List<Integer> shards = new ArrayList<>();
    if (req.getAllShards()) {
      int n = rounds.shardCount(req.getGroup());
      for (int s = 0; s < n; s++) {
        shards.add(s);
      }
    } else {
      shards.add(req.getShard());
    }
    // Each node handles rounds of different shards in parallel (--repair-workers); the next starts
    // when one ends, so a round's deadline is not spent waiting behind the others.
    ArrayDeque<Integer> waiting = new ArrayDeque<>(shards);
    List<RepairRounds.Round> open = new ArrayList<>();
    while (!waiting.isEmpty() && open.size() < ROUND_WINDOW) {
      open.add(start(rounds, req.getGroup(), waiting.poll(), timeout, out));
    }
    while (!open.isEmpty()) {
      if (cancelled.getAsBoolean()) {
        return;
      }
      boolean any = false;
      int ended = 0;
      for (var it = open.iterator(); it.hasNext(); ) {
        RepairRounds.Round r = it.next();
        RoundReport e;
        while ((e = r.next(Duration.ZERO)) != null) {
          any = true;
          RepairProgress.Builder p = RepairProgress.newBuilder().setRoundId(r.id()).setGroup(r.group())
              .setShard(r.shard());
          if (e.hasHop()) {
            p.setHop(e.getHop());
          }
          if (e.hasOutcome()) {
            p.setOutcome(e.getOutcome());
          }
          out.accept(p.build());
          if (e.hasOutcome()) {
            it.remove();
            ended++;
            break;
          }
        }
      }
      for (; ended > 0 && !waiting.isEmpty(); ended--) {
        open.add(start(rounds, req.getGroup(), waiting.poll(), timeout, out));
      }
      if (!any && !open.isEmpty()) {
        open.get(0).await(Duration.ofMillis(50));
      }
    }
  }

  private static RepairRounds.Round start(RepairRounds rounds, String group, int shard, Duration timeout,
      Consumer<RepairProgress> out) {
    RepairRounds.Round r = rounds.start(group, shard, timeout, "manual");
    out.accept(RepairProgress.newBuilder().setRoundId(r.id()).setGroup(r.group()).setShard(r.shard())
        .addAllNodes(r.nodes()).build());
    return r;
  }
}
