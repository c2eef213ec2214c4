package dev.arbor.console;

import dev.arbor.api.repair.v1.RepairProgress;
import dev.arbor.api.repair.v1.RunRepairRequest;
import java.util.function.Consumer;

/** Starts repair rounds for the console and hands it their progress. */
@FunctionalInterface
public interface RepairLauncher {
  /**
   * Runs {@code request} to its end, calling {@code events} with each progress event as it comes;
   * blocks until every round ended.
   *
   * @throws RuntimeException the request was refused (unknown group, shard out of range) or the
   *     node running it failed; the message says why
   */
  void run(RunRepairRequest request, Consumer<RepairProgress> events) throws InterruptedException;
}
