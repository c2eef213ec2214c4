package dev.arbor.repair;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.repair.tree.BuildSchedule;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background repair trigger of a node (spec §9): at every fire time of its schedule (default
 * daily 02:00) it picks, uniformly at random, a property group keeping at least two copies and a
 * shard of it, and starts a round. Every node runs its own trigger, so over days every shard is
 * covered; rounds started on several nodes for the same shard coalesce in the gossip queue.
 */
public final class RepairTrigger implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RepairTrigger.class);

  private final BuildSchedule schedule;
  private final MetadataStore metadata;
  private final RepairRounds rounds;
  private final Random random;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "arbor-repair-trigger");
    t.setDaemon(true);
    return t;
  });

  public RepairTrigger(BuildSchedule schedule, MetadataStore metadata, RepairRounds rounds, Random random) {
    this.schedule = schedule;
    this.metadata = metadata;
    this.rounds = rounds;
    this.random = random;
  }

  public void start() {
    scheduleNext();
  }

  private void scheduleNext() {
    ZonedDateTime now = BuildSchedule.now();
    long delay = Math.max(0, Duration.between(now, schedule.next(now)).toMillis());
    try {
      timer.schedule(this::fire, delay, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException stopped) {
      // shutting down
    }
  }

  private void fire() {
    try {
      fireOnce();
    } catch (RuntimeException e) {
      LOG.warn("scheduled repair could not start: {}", e.getMessage());
    } finally {
      scheduleNext();
    }
  }

  /** Starts one round now; returns the round, or null when no group keeps two copies. */
  public RepairRounds.Round fireOnce() {
    List<Group> eligible = metadata.groups().stream()
        .filter(g -> g.getCatalog() == Catalog.CATALOG_PROPERTY && g.getResourceOpts().getReplicas() >= 1
            && g.getResourceOpts().getShardNum() > 0)
        .toList();
    if (eligible.isEmpty()) {
      LOG.info("scheduled repair: no property group keeps two or more copies; nothing to do");
      return null;
    }
    Group g = eligible.get(random.nextInt(eligible.size()));
    int shard = random.nextInt(g.getResourceOpts().getShardNum());
    LOG.info("scheduled repair of {}/{}", g.getMetadata().getName(), shard);
    return rounds.start(g.getMetadata().getName(), shard, null, "schedule");
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
