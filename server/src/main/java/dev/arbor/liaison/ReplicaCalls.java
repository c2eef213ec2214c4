package dev.arbor.liaison;

import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.DataNodeClient;
import dev.arbor.cluster.DataNodes;
import dev.arbor.errors.ArborException;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.errors.NotFoundException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * Calls several data nodes in parallel and collects, per node, an answer or the failure. Each call
 * is bounded by the node client's deadline, so this never waits longer than one deadline.
 */
final class ReplicaCalls implements AutoCloseable {
  private final DataNodes nodes;
  private final ExecutorService pool;

  ReplicaCalls(DataNodes nodes, int threads) {
    this.nodes = nodes;
    this.pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "arbor-replica-call");
      t.setDaemon(true);
      return t;
    });
  }

  DataNodes nodes() {
    return nodes;
  }

  /** One node's outcome: exactly one of value and failure is set. */
  record Answer<T>(DataNode node, T value, RuntimeException failure) {
    boolean ok() {
      return failure == null;
    }
  }

  <T> List<Answer<T>> onEach(List<DataNode> targets, Function<DataNodeClient, T> call) {
    Map<DataNode, CompletableFuture<T>> futures = new LinkedHashMap<>();
    for (DataNode n : targets) {
      futures.put(n, CompletableFuture.supplyAsync(() -> call.apply(nodes.client(n.id())), pool));
    }
    List<Answer<T>> out = new ArrayList<>(targets.size());
    futures.forEach((n, f) -> {
      try {
        out.add(new Answer<>(n, f.join(), null));
      } catch (java.util.concurrent.CompletionException e) {
        Throwable cause = e.getCause();
        out.add(new Answer<>(n, null, cause instanceof RuntimeException r ? r : new RuntimeException(cause)));
      }
    });
    // A rejection by every node is the caller's error (bad request); a rejection by some nodes
    // only is a node lagging behind the metadata, and counts as that node's failure.
    if (!out.isEmpty() && out.stream().allMatch(a -> isRejection(a.failure()))) {
      throw (ArborException) out.get(0).failure();
    }
    return out;
  }

  private static boolean isRejection(RuntimeException e) {
    return e instanceof InvalidArgumentException || e instanceof NotFoundException;
  }

  /** Each failed node and why: unreachable, or what it answered (a shard out of service, say). */
  static String describeFailures(List<? extends Answer<?>> answers) {
    List<String> parts = new ArrayList<>();
    for (Answer<?> a : answers) {
      if (!a.ok()) {
        String node = a.node().id() + " (" + a.node().grpcAddress() + ")";
        String why = String.valueOf(a.failure().getMessage());
        // The node client's own messages already name the node.
        parts.add(why.contains(node) ? why : node + ": " + why);
      }
    }
    return String.join("; ", parts);
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
