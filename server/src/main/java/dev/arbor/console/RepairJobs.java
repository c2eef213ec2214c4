package dev.arbor.console;

import dev.arbor.runtime.NodeRuntime;
import dev.arbor.api.repair.v1.HopResult;
import dev.arbor.api.repair.v1.RepairProgress;
import dev.arbor.api.repair.v1.RunRepairRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Repair requests started from the console: each runs on a thread of its own (a few at once) and
 * its progress is kept, round by round, for the page to poll. The newest {@link #KEPT} are
 * remembered; nothing here survives a restart (the trace store keeps the rounds themselves).
 */
final class RepairJobs implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RepairJobs.class);
  static final int RUNNING = 4;
  static final int KEPT = 50;

  private final RepairLauncher launcher;
  private final LongSupplier nowMs;
  private final AtomicLong ids = new AtomicLong();
  private final Map<String, Job> jobs = new LinkedHashMap<>();
  private final java.util.concurrent.ExecutorService pool;

  RepairJobs(NodeRuntime runtime, RepairLauncher launcher, LongSupplier nowMs) {
    this.launcher = launcher;
    this.nowMs = nowMs;
    pool = runtime.newExecutor("arbor-console-repair", RUNNING, 1);
  }

  /** One round of a job as heard so far. */
  private static final class RoundState {
    final String roundId;
    final int shard;
    final List<String> nodes = new ArrayList<>();
    final List<HopResult> hops = new ArrayList<>();
    String outcome;
    String message = "";
    long startedMs;

    RoundState(String roundId, int shard, long startedMs) {
      this.roundId = roundId;
      this.shard = shard;
      this.startedMs = startedMs;
    }
  }

  private static final class Job {
    final String id;
    final String group;
    final Integer shard;
    final long startedMs;
    final Map<String, RoundState> rounds = new LinkedHashMap<>();
    boolean ended;
    String error;

    Job(String id, String group, Integer shard, long startedMs) {
      this.id = id;
      this.group = group;
      this.shard = shard;
      this.startedMs = startedMs;
    }
  }

  /**
   * Starts a repair of one shard, or of every shard of the group when {@code shard} is null.
   *
   * @return the job id
   * @throws RejectedExecutionException when {@link #RUNNING} repairs started here are running
   */
  String start(String group, Integer shard) {
    String id = "console-" + ids.incrementAndGet();
    Job job = new Job(id, group, shard, nowMs.getAsLong());
    RunRepairRequest.Builder req = RunRepairRequest.newBuilder().setGroup(group);
    if (shard == null) {
      req.setAllShards(true);
    } else {
      req.setShard(shard);
    }
    synchronized (this) {
      jobs.put(id, job);
      while (jobs.size() > KEPT) {
        jobs.remove(jobs.keySet().iterator().next());
      }
    }
    try {
      pool.execute(() -> run(job, req.build()));
    } catch (RejectedExecutionException e) {
      synchronized (this) {
        jobs.remove(id);
      }
      throw e;
    }
    return id;
  }

  private void run(Job job, RunRepairRequest req) {
    try {
      launcher.run(req, p -> onProgress(job, p));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail(job, "the node is shutting down");
    } catch (RuntimeException e) {
      LOG.info("repair of {} started from the console failed: {}", job.group, e.getMessage());
      fail(job, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    } finally {
      synchronized (this) {
        job.ended = true;
      }
    }
  }

  private synchronized void fail(Job job, String why) {
    job.error = why;
  }

  private synchronized void onProgress(Job job, RepairProgress p) {
    RoundState r = job.rounds.computeIfAbsent(p.getRoundId(), k -> new RoundState(k, p.getShard(), nowMs.getAsLong()));
    if (p.getNodesCount() > 0 && r.nodes.isEmpty()) {
      r.nodes.addAll(p.getNodesList());
    }
    if (p.hasHop()) {
      r.hops.add(p.getHop());
    }
    if (p.hasOutcome()) {
      r.outcome = p.getOutcome().getStatus();
      r.message = p.getOutcome().getMessage();
    }
  }

  /** Rounds started here that have not ended, as timeline rows. */
  synchronized List<Map<String, Object>> runningRounds() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Job j : jobs.values()) {
      for (RoundState r : j.rounds.values()) {
        if (r.outcome == null && !j.ended) {
          Map<String, Object> row = roundJson(j.group, r);
          out.add(row);
        }
      }
    }
    return out;
  }

  /** The progress of a job, for the page; empty when unknown (never started, or long forgotten). */
  synchronized Optional<Map<String, Object>> progress(String id) {
    Job j = jobs.get(id);
    if (j == null) {
      return Optional.empty();
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("id", j.id);
    out.put("group", j.group);
    out.put("shard", j.shard);
    out.put("startedAtMs", j.startedMs);
    List<Map<String, Object>> rounds = new ArrayList<>();
    int ended = 0;
    int completed = 0;
    long repaired = 0;
    for (RoundState r : j.rounds.values()) {
      rounds.add(roundJson(j.group, r));
      if (r.outcome != null) {
        ended++;
        if ("COMPLETED".equals(r.outcome)) {
          completed++;
        }
      }
      for (HopResult h : r.hops) {
        repaired += h.getRepairedToServer() + h.getRepairedToClient();
      }
    }
    out.put("rounds", rounds);
    boolean ok = j.error == null && completed == j.rounds.size();
    out.put("state", !j.ended ? "running" : ok ? "ok" : "failed");
    out.put("done", j.ended);
    String text;
    if (!j.ended) {
      text = "running: " + ended + " of " + (j.rounds.isEmpty() ? "?" : j.rounds.size()) + " rounds ended, "
          + repaired + " properties repaired so far";
    } else if (j.error != null) {
      text = "done: failed: " + j.error;
    } else {
      text = "done: " + completed + " of " + j.rounds.size() + " rounds completed, " + repaired
          + " properties repaired" + (ok ? "" : " (see the rounds for what failed)");
    }
    out.put("text", text);
    out.put("error", j.error);
    return Optional.of(out);
  }

  private Map<String, Object> roundJson(String group, RoundState r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("roundId", r.roundId);
    m.put("group", group);
    m.put("shard", r.shard);
    m.put("nodes", List.copyOf(r.nodes));
    m.put("startedAtMs", r.startedMs);
    m.put("outcome", r.outcome == null ? "running" : "COMPLETED".equals(r.outcome) ? "ok" : "failed");
    m.put("status", r.outcome == null ? "RUNNING" : r.outcome);
    m.put("message", r.message);
    long bytes = 0;
    long repaired = 0;
    List<Map<String, Object>> hops = new ArrayList<>();
    for (HopResult h : r.hops) {
      bytes += h.getBytesSent() + h.getBytesReceived();
      repaired += h.getRepairedToServer() + h.getRepairedToClient();
      Map<String, Object> hop = new LinkedHashMap<>();
      hop.put("from", h.getClientNode());
      hop.put("to", h.getServerNode());
      hop.put("success", h.getSuccess());
      hop.put("rootMatch", h.getRootMatch());
      hop.put("repaired", h.getRepairedToServer() + h.getRepairedToClient());
      hop.put("bytes", h.getBytesSent() + h.getBytesReceived());
      hop.put("error", h.getError());
      hops.add(hop);
    }
    m.put("hops", r.hops.size());
    m.put("hopDetails", hops);
    m.put("bytes", bytes);
    m.put("repaired", repaired);
    return m;
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
