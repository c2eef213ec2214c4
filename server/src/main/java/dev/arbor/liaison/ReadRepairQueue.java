package dev.arbor.liaison;

import dev.arbor.runtime.NodeRuntime;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.DataNodes;
import dev.arbor.transport.PeerFutures;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Query-time repair (spec §3, with our fixes): pushes the full winning record (never a projected
 * copy) to a replica that answered a query with an older version or none. Bounded: a full queue
 * drops the task (counted; the background repair will catch up); the same (node, entity,
 * revision) is never queued twice at once; one worker writes.
 */
final class ReadRepairQueue implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReadRepairQueue.class);

  private record Task(DataNode node, StoredProperty property) {
    String dedupKey() {
      return node.id() + "|" + property.getEntity() + "|" + property.getModRevision() + "|" + property.getDeleteTime();
    }
  }

  private final DataNodes nodes;
  private final BlockingQueue<Task> queue;
  private final Set<String> pending = ConcurrentHashMap.newKeySet();
  private final Thread worker;
  private volatile boolean closed;
  private final AtomicLong enqueued = new AtomicLong();
  private final AtomicLong repaired = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong superseded = new AtomicLong();

  ReadRepairQueue(DataNodes nodes, int capacity) {
    this(NodeRuntime.system(), nodes, capacity);
  }

  /** @param runtime makes the worker thread */
  ReadRepairQueue(NodeRuntime runtime, DataNodes nodes, int capacity) {
    this.nodes = nodes;
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.worker = runtime.newThread("arbor-read-repair", this::work);
    worker.start();
  }

  void repair(DataNode node, StoredProperty winner) {
    Task t = new Task(node, winner);
    if (!pending.add(t.dedupKey())) {
      return;
    }
    if (queue.offer(t)) {
      enqueued.incrementAndGet();
    } else {
      pending.remove(t.dedupKey());
      dropped.incrementAndGet();
    }
  }

  long enqueued() {
    return enqueued.get();
  }

  long repaired() {
    return repaired.get();
  }

  long dropped() {
    return dropped.get();
  }

  long failed() {
    return failed.get();
  }

  /** Pushes the node did not need: it already held a newer version (written since the query). */
  long superseded() {
    return superseded.get();
  }

  private void work() {
    while (!closed) {
      Task t;
      try {
        t = queue.poll(200, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        return;
      }
      if (t == null) {
        continue;
      }
      try {
        dev.arbor.cluster.DataNodeClient client = nodes.client(t.node().id());
        // One push at a time, on this worker: it waits for the node here.
        dev.arbor.cluster.WriteReply reply =
            PeerFutures.await(client.write(List.of(t.property()), false, client.deadline()));
        // Only a copy the node now holds is a repair; a newer one there means the lag was healed
        // by a later write, and a refusal is a failure worth a look (the rejection says why).
        if (reply.holdsAll()) {
          repaired.incrementAndGet();
        } else if (reply.heldNewer()) {
          superseded.incrementAndGet();
        } else {
          failed.incrementAndGet();
          LOG.warn("read repair of {} on {} refused: {}", t.property().getEntity(), t.node().id(), reply.rejection());
        }
      } catch (RuntimeException e) {
        failed.incrementAndGet();
        LOG.debug("read repair of {} on {} failed: {}", t.property().getEntity(), t.node().id(), e.getMessage());
      } finally {
        pending.remove(t.dedupKey());
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    worker.interrupt();
  }
}
