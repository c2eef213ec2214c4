package dev.arbor.server.cli;

import dev.arbor.api.repair.v1.HopResult;
import dev.arbor.api.repair.v1.RepairProgress;
import dev.arbor.api.repair.v1.RoundOutcome;
import dev.arbor.api.repair.v1.RunRepairRequest;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code arbor repair run}: starts a repair round on a data node for one shard (or every shard of
 * a group) and follows it: a line per hop as the round walks the ring, then a one-line summary.
 * Exits 0 only when every round completed.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Start a repair round now and wait for its result, printing progress.",
      "--target is a data node's gRPC address (the round's origin); it need not hold the shard."
    })
final class RepairRunCommand implements Callable<Integer> {
  @Mixin ClientOptions client;

  @Option(names = "--group", required = true, description = "Group to repair.")
  String group;

  @Option(names = "--shard", description = "Shard to repair (default 0).")
  Integer shard;

  @Option(names = "--all", description = "Repair every shard of the group (up to 4 rounds at once).")
  boolean all;

  @Option(names = "--round-timeout", defaultValue = "20m", converter = DurationConverter.class,
      description = "Give up on a round after this long (default: ${DEFAULT-VALUE}).")
  Duration roundTimeout;

  @Option(names = "--json", description = "Print every progress event as JSON, one per line.")
  boolean json;

  @Override
  public Integer call() {
    CommandLine cl = client.mixee.commandLine();
    if (all && shard != null) {
      throw new CommandLine.ParameterException(cl, "give either --shard N or --all, not both");
    }
    if (shard != null && shard < 0) {
      throw new CommandLine.ParameterException(cl, "--shard must be >= 0");
    }
    if (roundTimeout.isZero() || roundTimeout.isNegative()) {
      throw new CommandLine.ParameterException(cl, "--round-timeout must be positive");
    }
    RunRepairRequest req = RunRepairRequest.newBuilder().setGroup(group).setShard(shard == null ? 0 : shard)
        .setAllShards(all).setTimeoutMs(roundTimeout.toMillis()).build();
    PrintWriter out = cl.getOut();
    Totals totals = new Totals();
    long t0 = System.nanoTime();
    try (ApiChannel api = client.connect()) {
      // The call lasts as long as its rounds: one deadline per round plus a margin for the reports.
      int rounds = 1;
      Duration deadline = roundTimeout.plusSeconds(30).multipliedBy(all ? 1024 : rounds);
      api.call(() -> {
        Iterator<RepairProgress> it = api.repairAdmin(deadline).runRepair(req);
        while (it.hasNext()) {
          RepairProgress p = it.next();
          if (json) {
            new JsonOutput(out, true).print(p);
          } else {
            print(out, p);
          }
          totals.add(p);
        }
        return null;
      });
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    out.printf("repair of %s: %d round(s) %s, %d hop(s), %d compared, %d repaired (%d pushed, %d pulled), "
            + "%s sent, %s received, %.2f s%n",
        group, totals.rounds, totals.failed == 0 ? "completed" : "with " + totals.failed + " not completed",
        totals.hops, totals.compared, totals.pushed + totals.pulled, totals.pushed, totals.pulled,
        bytes(totals.sent), bytes(totals.received), secs);
    out.flush();
    return totals.failed == 0 && totals.rounds > 0 ? 0 : CliErrorHandler.EXIT_FAILURE;
  }

  private static void print(PrintWriter out, RepairProgress p) {
    String where = p.getGroup() + "/" + p.getShard();
    if (p.getNodesCount() > 0) {
      out.printf("round %s of %s over %s%n", p.getRoundId(), where, String.join(" -> ", p.getNodesList()));
    }
    if (p.hasHop()) {
      HopResult h = p.getHop();
      if (h.getSuccess()) {
        out.printf("  hop %s <-> %s: %s, %d compared, %d pushed, %d pulled, %s sent, %s received, %.1f ms%s%n",
            h.getClientNode(), h.getServerNode(), h.getRootMatch() ? "in sync" : h.getSlotsDiffering()
                + " slot(s) differ", h.getLeavesCompared(), h.getRepairedToServer(), h.getRepairedToClient(),
            bytes(h.getBytesSent()), bytes(h.getBytesReceived()), h.getDurationMs(),
            (h.getBulkFiles() == 0 ? "" : ", bulk: " + h.getBulkFiles() + " file(s), " + bytes(h.getBulkBytes())
                + ", " + h.getBulkDocuments() + " document(s) attached")
            + (h.getSkippedCount() == 0 ? "" : " (skipped " + String.join("; ", h.getSkippedList()) + ")"));
      } else {
        out.printf("  hop %s <-> %s failed: %s%n", h.getClientNode(), h.getServerNode(), h.getError());
      }
    }
    if (p.hasOutcome()) {
      RoundOutcome o = p.getOutcome();
      out.printf("round %s of %s %s after %d of %d hop(s) on %s: %s%n", p.getRoundId(), where, o.getStatus(),
          o.getPropagationCount(), o.getMaxPropagationCount(), o.getEndedOnNode(), o.getMessage());
    }
    out.flush();
  }

  static String bytes(long b) {
    if (b < 1024) {
      return b + " B";
    }
    if (b < 1 << 20) {
      return String.format("%.1f KiB", b / 1024.0);
    }
    return String.format("%.1f MiB", b / (1024.0 * 1024));
  }

  private static final class Totals {
    int rounds;
    int failed;
    int hops;
    long compared;
    long pushed;
    long pulled;
    long sent;
    long received;

    void add(RepairProgress p) {
      if (p.hasHop() && p.getHop().getSuccess()) {
        HopResult h = p.getHop();
        hops++;
        compared += h.getLeavesCompared();
        pushed += h.getRepairedToServer();
        pulled += h.getRepairedToClient();
        sent += h.getBytesSent();
        received += h.getBytesReceived();
      }
      if (p.hasOutcome()) {
        rounds++;
        if (!"COMPLETED".equals(p.getOutcome().getStatus())) {
          failed++;
        }
      }
    }
  }
}
