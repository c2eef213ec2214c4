package dev.arbor.metadata.etcd;

import dev.arbor.metadata.RegisteredNode;
import dev.arbor.metadata.NodeEvent;
import dev.arbor.metadata.NodeRegistry;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.arbor.config.Durations;
import dev.arbor.errors.FailedPreconditionException;
import dev.arbor.errors.UnavailableException;
import dev.arbor.storage.StorageException;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.support.CloseableClient;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Node membership on etcd. A node registers itself ({@link #register}) under {@code nodes/<id>} as
 * JSON, attached to a lease of the given TTL that is kept alive in the background: when the process
 * dies the lease expires and the registration disappears after the TTL; {@link #close()} revokes
 * it at once. If the lease is lost while the process lives (etcd away, or the process frozen,
 * longer than the TTL), the node registers again with a new lease as soon as etcd answers.
 *
 * <p>A registration is only ever created where the key is absent (a transaction on the key's
 * version), so two processes started with one id cannot overwrite each other: the second waits
 * out the holder's lease (a crashed earlier run of the same node leaves one behind for up to its
 * TTL) and fails to start if the holder keeps it alive. If the key is deleted while the lease
 * lives, the node creates it again.
 *
 * <p>Every instance also watches all registrations: {@link #nodes()} is served from that local
 * copy (the last known one while etcd is away) and listeners hear of joins and leaves.
 */
public final class EtcdNodeRegistry implements NodeRegistry {
  public static final Duration DEFAULT_TTL = Duration.ofSeconds(10);
  private static final Logger log = LoggerFactory.getLogger(EtcdNodeRegistry.class);
  private static final String NODES = "nodes/";
  private static final long MAX_BACKOFF_MS = 2_000;
  /** How often a starting node looks again at a registration of its id that it waits out. */
  private static final long HOLDER_POLL_MS = 200;
  /** etcd expires leases in passes, not at the exact instant: allowance beyond a holder's TTL. */
  private static final Duration EXPIRY_SLACK = Duration.ofSeconds(2);
  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private final EtcdConnection conn;
  private final boolean ownsConnection;
  private final String prefix;
  private final PrefixCache<RegisteredNode> cache;
  private final ScheduledExecutorService upkeep;
  private final Map<Consumer<NodeEvent>, Consumer<PrefixCache.Change<RegisteredNode>>> listeners =
      new ConcurrentHashMap<>();

  /** Id of the own registration, read by the event thread without the lock (null until registered). */
  private volatile String selfId;
  // Own registration; guarded by this.
  private RegisteredNode self;
  private long ttlSeconds;
  private long leaseId;
  private CloseableClient keepAlive;
  private int failedAttempts;
  private boolean closed;
  /** The id of this process's registration while it is lost and not registered again; null otherwise. */
  private volatile String lostRegistration;

  private EtcdNodeRegistry(EtcdConnection conn, boolean owns, String prefix) {
    this.conn = conn;
    this.ownsConnection = owns;
    this.prefix = prefix;
    this.cache =
        new PrefixCache<>(
            conn, prefix + NODES, "arbor-etcd-nodes", (key, bytes) -> decode(bytes));
    this.upkeep =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "arbor-etcd-lease");
              t.setDaemon(true);
              return t;
            });
    this.cache.addListener(this::onNodeChange);
  }

  /** Connects, loads the registered nodes and watches them; see {@link EtcdConnection#connect}. */
  public static EtcdNodeRegistry connect(List<URI> endpoints, String prefix, Duration timeout) {
    EtcdConnection c = EtcdConnection.connect(endpoints, timeout);
    try {
      return open(c, prefix, true);
    } catch (RuntimeException e) {
      c.close();
      throw e;
    }
  }

  /** Uses an existing connection, which the caller keeps owning. */
  public static EtcdNodeRegistry open(EtcdConnection conn, String prefix) {
    return open(conn, prefix, false);
  }

  private static EtcdNodeRegistry open(EtcdConnection conn, String prefix, boolean owns) {
    EtcdNodeRegistry r =
        new EtcdNodeRegistry(conn, owns, EtcdMetadataStore.normalizePrefix(prefix));
    try {
      r.cache.start();
    } catch (RuntimeException e) {
      r.cache.close();
      r.upkeep.shutdownNow();
      throw e;
    }
    return r;
  }

  public EtcdConnection connection() {
    return conn;
  }

  /** The registered nodes, by id. */
  public List<RegisteredNode> nodes() {
    return cache.valuesWithPrefix("");
  }

  @Override
  public Optional<RegisteredNode> node(String id) {
    return cache.get(id);
  }

  /** Calls {@code listener} (on the registry's event thread, in order) when a node joins, changes or leaves. */
  public void addListener(Consumer<NodeEvent> listener) {
    Consumer<PrefixCache.Change<RegisteredNode>> adapter =
        c -> {
          if (c.oldValue() == null) {
            listener.accept(new NodeEvent(NodeEvent.Type.JOINED, c.newValue()));
          } else if (c.newValue() == null) {
            listener.accept(new NodeEvent(NodeEvent.Type.LEFT, c.oldValue()));
          } else {
            listener.accept(new NodeEvent(NodeEvent.Type.UPDATED, c.newValue()));
          }
        };
    if (listeners.putIfAbsent(listener, adapter) == null) {
      cache.addListener(adapter);
    }
  }

  public void removeListener(Consumer<NodeEvent> listener) {
    Consumer<PrefixCache.Change<RegisteredNode>> adapter = listeners.remove(listener);
    if (adapter != null) {
      cache.removeListener(adapter);
    }
  }

  /**
   * Registers this process as {@code node} under a lease of {@code ttl} (rounded up to whole
   * seconds; etcd may raise very small TTLs to its minimum) and keeps the lease alive. Once per
   * registry. Throws {@code UnavailableException} if etcd does not answer within the timeout, and
   * {@link FailedPreconditionException} naming the holder's address if another process keeps a
   * registration of the same id alive (one that is not renewed is waited out: up to its TTL).
   */
  public synchronized void register(RegisteredNode node, Duration ttl) {
    if (closed) {
      throw new IllegalStateException("node registry is closed");
    }
    if (self != null) {
      throw new IllegalStateException("this registry already registered node " + self.id());
    }
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("lease TTL must be > 0, got " + ttl);
    }
    self = node;
    selfId = node.id();
    ttlSeconds = Math.max(1, (ttl.toMillis() + 999) / 1000);
    try {
      establish(true);
    } catch (RuntimeException e) {
      self = null;
      selfId = null;
      throw e;
    }
    log.info(
        "registered node {} ({}) in etcd at {} with a {}s lease",
        node.id(),
        node.grpcAddress(),
        conn.endpointText(),
        ttlSeconds);
  }

  /**
   * etcd unreachable (the last call, watch or lease keep-alive failed), or this process's
   * registration lost (its lease gone) and not registered again yet.
   */
  @Override
  public List<String> readinessProblems() {
    // Not under the lock: re-registering holds it across etcd calls, and a health check must not wait.
    List<String> out = new java.util.ArrayList<>();
    if (!conn.isAvailable()) {
      out.add("etcd at " + conn.endpointText() + " is unreachable");
    }
    String lost = lostRegistration;
    if (lost != null) {
      out.add("registration of node " + lost + " in etcd is lost; registering again");
    }
    return out;
  }

  /** The lease of this process's registration (0 when not registered). */
  public synchronized long leaseId() {
    return leaseId;
  }

  /**
   * Grants a lease, creates the registration on it and starts keeping it alive. Caller holds the
   * lock. {@code waitOutHolder}: at start, a registration of this id is waited out while its lease
   * may still expire; later (re-registration) a held id fails at once and is retried.
   */
  private void establish(boolean waitOutHolder) {
    if (waitOutHolder) {
      awaitNoLiveHolder();
    }
    Lease lease = conn.client().getLeaseClient();
    String id = self.id();
    long granted =
        conn.call(() -> lease.grant(ttlSeconds), "grant a " + ttlSeconds + "s lease for node " + id).getID();
    long revision;
    try {
      revision = createOrFail(granted);
    } catch (RuntimeException e) {
      lease.revoke(granted); // best effort; it expires anyway
      throw e;
    }
    leaseId = granted;
    keepAlive = lease.keepAlive(granted, new KeepAliveObserver(granted));
    failedAttempts = 0;
    cache.applyLocal(id, self, revision);
  }

  /** What a create-if-absent found: the revision of our put, or the registration in the way. */
  private record Created(boolean created, long revision, KeyValue holder) {}

  /** Puts the registration on {@code lease} only if the key does not exist. */
  private Created tryCreate(long lease) {
    ByteSequence k = key(self.id());
    TxnResponse r =
        conn.call(
            () -> conn.client()
                .getKVClient()
                .txn()
                .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.version(0)))
                .Then(Op.put(k, encode(self), PutOption.builder().withLeaseId(lease).build()))
                .Else(Op.get(k, GetOption.DEFAULT))
                .commit(),
            "register node " + self.id());
    if (r.isSucceeded()) {
      return new Created(true, r.getHeader().getRevision(), null);
    }
    List<KeyValue> kvs = r.getGetResponses().isEmpty() ? List.of() : r.getGetResponses().get(0).getKvs();
    return new Created(false, r.getHeader().getRevision(), kvs.isEmpty() ? null : kvs.get(0));
  }

  private long createOrFail(long lease) {
    Created c = tryCreate(lease);
    if (c.created() || (c.holder() != null && c.holder().getLease() == lease)) {
      return c.revision();
    }
    throw heldBy(c.holder(), "");
  }

  /**
   * Returns once no registration of this id exists, waiting while one does whose lease may still
   * run out: a node restarted right after a crash finds its own earlier one. One still there after
   * its lease's TTL (plus etcd's expiry slack) is being renewed by a live process.
   */
  private void awaitNoLiveHolder() {
    ByteSequence k = key(self.id());
    long deadline = 0;
    while (true) {
      List<KeyValue> kvs =
          conn.call(() -> conn.client().getKVClient().get(k), "look up node " + self.id()).getKvs();
      if (kvs.isEmpty()) {
        return;
      }
      KeyValue holder = kvs.get(0);
      if (isOwnEarlierRun(holder)) {
        // The registration names the address this process serves on: whoever wrote it no longer
        // holds that port, so it is this node's earlier run (killed) and can be replaced at once
        // instead of waiting out its lease.
        TxnResponse r = conn.call(() -> conn.client().getKVClient().txn()
                .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(holder.getModRevision())))
                .Then(Op.delete(k, io.etcd.jetcd.options.DeleteOption.DEFAULT))
                .commit(),
            "replace the earlier registration of node " + self.id());
        if (r.isSucceeded()) {
          log.info("node id {} was registered by this node's earlier run at {}; replaced", self.id(),
              self.grpcAddress());
          return;
        }
        continue; // changed meanwhile: look again
      }
      if (holder.getLease() == 0) {
        throw heldBy(holder, " without a lease"); // never goes away by itself
      }
      if (deadline == 0) {
        long ttl =
            Math.max(0, conn.call(
                    () -> conn.client().getLeaseClient().timeToLive(holder.getLease(), LeaseOption.DEFAULT),
                    "look up the lease of node " + self.id())
                .getGrantedTTL());
        deadline = System.nanoTime() + Duration.ofSeconds(ttl).plus(EXPIRY_SLACK).toNanos();
        log.info(
            "node id {} is registered by {}; waiting up to {}s for that registration to expire",
            self.id(), describeHolder(holder), ttl + EXPIRY_SLACK.toSeconds());
      }
      if (System.nanoTime() >= deadline) {
        throw heldBy(holder, " that keeps renewing it");
      }
      try {
        Thread.sleep(HOLDER_POLL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new UnavailableException("interrupted while registering node " + self.id(), e);
      }
    }
  }

  private boolean isOwnEarlierRun(KeyValue holder) {
    try {
      return decode(holder.getValue().getBytes()).grpcAddress().equals(self.grpcAddress());
    } catch (RuntimeException | java.io.IOException unreadable) {
      return false;
    }
  }

  private FailedPreconditionException heldBy(KeyValue holder, String detail) {
    return new FailedPreconditionException(
        "node id " + self.id() + " is already registered by " + describeHolder(holder) + detail
            + "; every node needs its own --node-id");
  }

  private static String describeHolder(KeyValue holder) {
    if (holder == null) {
      return "another process";
    }
    try {
      return "the node at " + decode(holder.getValue().getBytes()).grpcAddress();
    } catch (IOException | RuntimeException e) {
      return "an unreadable registration (" + holder.getValue().size() + " bytes)";
    }
  }

  /** On the registry's event thread: our own key went away. */
  private void onNodeChange(PrefixCache.Change<RegisteredNode> c) {
    if (c.newValue() != null) {
      return;
    }
    if (!c.key().equals(selfId)) {
      return;
    }
    try {
      upkeep.execute(this::recreateIfGone);
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      // closed meanwhile: nothing to keep
    }
  }

  /**
   * Our key was deleted (by an operator, a script) while our lease may live: create it again on
   * the same lease. A lease that is gone too (expired while the process was frozen) means
   * registering anew.
   */
  private synchronized void recreateIfGone() {
    if (closed || self == null || leaseId <= 0) {
      return;
    }
    long lease = leaseId;
    try {
      Created c = tryCreate(lease);
      if (c.created()) {
        log.warn("registration of node {} was deleted while its lease lived; created it again", self.id());
        cache.applyLocal(self.id(), self, c.revision());
      } else if (c.holder() != null && c.holder().getLease() != lease) {
        // Not ours to overwrite; when it goes away, this runs again.
        log.error("{}; this node registers again when that registration goes away",
            heldBy(c.holder(), "").getMessage());
      }
    } catch (StorageException e) {
      // etcd refused the put: our lease no longer exists.
      reestablish(lease, "its lease is gone (" + e.getMessage() + ")");
    } catch (RuntimeException e) {
      log.warn("re-creating the registration of node {} failed ({}); trying again", self.id(), e.getMessage());
      upkeep.schedule(this::recreateIfGone, MAX_BACKOFF_MS, TimeUnit.MILLISECONDS);
    }
  }

  private final class KeepAliveObserver implements StreamObserver<LeaseKeepAliveResponse> {
    private final long lease;

    KeepAliveObserver(long lease) {
      this.lease = lease;
    }

    @Override
    public void onNext(LeaseKeepAliveResponse value) {
      conn.markAvailable();
    }

    @Override
    public void onError(Throwable t) {
      boolean leaseGone = t instanceof EtcdException ee && ee.getErrorCode() == ErrorCode.NOT_FOUND;
      if (leaseGone) {
        upkeep.execute(() -> reestablish(lease, "its lease is gone"));
      } else {
        // jetcd restarts the keep-alive stream by itself; the deadline check ends it if too late.
        conn.markUnavailable("lease keep-alive: " + EtcdConnection.describe(t));
      }
    }

    @Override
    public void onCompleted() {
      upkeep.execute(() -> reestablish(lease, "no keep-alive answer within the TTL"));
    }
  }

  /** On the upkeep thread: the registration on {@code lease} is (probably) lost; register again. */
  private synchronized void reestablish(long lease, String reason) {
    if (closed || self == null || lease != leaseId) {
      return;
    }
    if (failedAttempts == 0) {
      log.warn("registration of node {} in etcd lost ({}); registering again", self.id(), reason);
    }
    closeKeepAlive();
    lostRegistration = self.id();
    leaseId = -1; // no current lease: retries below are not stale
    retryEstablish();
  }

  private synchronized void retryEstablish() {
    if (closed || self == null || leaseId > 0) {
      return;
    }
    try {
      establish(false);
      lostRegistration = null;
      log.info("node {} registered again with lease {}", self.id(), leaseId);
    } catch (RuntimeException e) {
      if (failedAttempts == 0) {
        log.warn("registering node {} again failed ({}); retrying", self.id(), e.getMessage());
      }
      long delay = Math.min(MAX_BACKOFF_MS, 100L << Math.min(failedAttempts++, 5));
      upkeep.schedule(this::retryEstablish, delay, TimeUnit.MILLISECONDS);
    }
  }

  private void closeKeepAlive() {
    if (keepAlive != null) {
      try {
        keepAlive.close();
      } catch (RuntimeException e) {
        log.debug("closing lease keep-alive: {}", e.toString());
      }
      keepAlive = null;
    }
  }

  /** Stops keeping the lease alive and revokes it, so the registration disappears at once. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      closeKeepAlive();
      if (self != null && leaseId > 0) {
        try {
          conn.call(() -> conn.client().getLeaseClient().revoke(leaseId), "revoke lease of node " + self.id());
        } catch (RuntimeException e) {
          log.warn(
              "could not revoke the registration of node {} ({}); it disappears after its {}s TTL",
              self.id(),
              e.getMessage(),
              ttlSeconds);
        }
      }
    }
    upkeep.shutdownNow();
    cache.close();
    if (ownsConnection) {
      conn.close();
    }
  }

  /**
   * What a killed process leaves behind: keep-alives stop and the client goes away, but the lease
   * is not revoked, so the registration lingers until its TTL runs out. For tests.
   */
  synchronized void abandonWithoutRevoking() {
    closed = true;
    closeKeepAlive();
    upkeep.shutdownNow();
    cache.close();
    conn.close();
  }

  @Override
  public String toString() {
    return "EtcdNodeRegistry[" + conn.endpointText() + " " + prefix + NODES + ", ttl "
        + Durations.format(Duration.ofSeconds(ttlSeconds)) + "]";
  }

  private ByteSequence key(String id) {
    return EtcdConnection.bytes(prefix + NODES + id);
  }

  private static ByteSequence encode(RegisteredNode node) {
    try {
      return ByteSequence.from(JSON.writeValueAsBytes(node));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static RegisteredNode decode(byte[] bytes) throws IOException {
    return JSON.readValue(bytes, RegisteredNode.class);
  }
}
