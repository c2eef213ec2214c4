package dev.arbor.server;

import dev.arbor.liaison.PublicApi;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.observability.GrpcMetricsInterceptor;
import dev.arbor.observability.HttpEndpoints;
import dev.arbor.observability.StoreMetrics;
import dev.arbor.observability.TreeMetrics;
import dev.arbor.property.HybridClock;
import dev.arbor.repair.TreeAdminGrpcService;
import dev.arbor.repair.tree.BuildSchedule;
import dev.arbor.repair.tree.RepairTrees;
import dev.arbor.repair.tree.TreeBuildScheduler;
import dev.arbor.storage.StoreEvents;
import dev.arbor.storage.PropertyStore;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running standalone Arbor (liaison + data roles, embedded metadata) — the composition root:
 * every component is built and wired here, and nowhere else.
 */
public final class StandaloneServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StandaloneServer.class);
  private static final int MAX_INBOUND_MESSAGE = 64 << 20;

  private final ServerConfig config;
  private final MetadataStore metadata;
  private final PropertyStore store;
  private final RepairTrees trees;
  private final TreeBuildScheduler treeScheduler;
  private final Server grpc;
  private final HttpEndpoints http;
  private final ScheduledExecutorService background;
  private volatile boolean serving;
  private boolean closed;

  private StandaloneServer(
      ServerConfig config, MetadataStore metadata, PropertyStore store, RepairTrees trees,
      TreeBuildScheduler treeScheduler, Server grpc, HttpEndpoints http, ScheduledExecutorService background) {
    this.config = config;
    this.metadata = metadata;
    this.store = store;
    this.trees = trees;
    this.treeScheduler = treeScheduler;
    this.grpc = grpc;
    this.http = http;
    this.background = background;
  }

  /** Opens the data directory, recovers, and starts serving gRPC and HTTP. */
  public static StandaloneServer start(ServerConfig config) throws IOException {
    BuildSchedule treeSchedule = BuildSchedule.parse(config.trees().buildSchedule());
    HybridClock clock = HybridClock.system();
    MetadataStore metadata = EmbeddedMetadataStore.open(config.dataDir().resolve("meta"), clock);
    StoreEvents events = new StoreEvents();
    PropertyStore store = PropertyStore.open(config.dataDir(), g -> metadata.group(g).isPresent(), events);
    RepairTrees trees = new RepairTrees(config.dataDir().resolve("repair"), store, config.trees().slotCount());
    trees.loadExisting(g -> metadata.group(g).isPresent());
    events.subscribe(trees);
    TreeBuildScheduler treeScheduler = new TreeBuildScheduler(
        trees, treeSchedule, config.trees().quickBuildDelay(), config.trees().buildThreads());
    events.subscribe(treeScheduler);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    StoreMetrics.bind(store, registry);
    TreeMetrics.bind(trees, registry);
    GrpcMetricsInterceptor metrics = new GrpcMetricsInterceptor(registry);
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new InetSocketAddress(config.grpcHost(), config.grpcPort()))
            .maxInboundMessageSize(MAX_INBOUND_MESSAGE);
    for (BindableService s : PublicApi.services(metadata, store, clock, config.limits(), "arbor-0.1.0")) {
      builder.addService(ServerInterceptors.intercept(s, metrics));
    }
    builder.addService(ServerInterceptors.intercept(new TreeAdminGrpcService(metadata, trees), metrics));
    Server grpc = builder.build();
    HttpEndpoints http = null;
    ScheduledExecutorService background = null;
    try {
      try {
        grpc.start();
      } catch (IOException e) {
        throw bindFailure("gRPC", config.grpcHost(), config.grpcPort(), e);
      }
      StandaloneServer[] self = new StandaloneServer[1];
      try {
        http = new HttpEndpoints(config.grpcHost(), config.httpPort(), registry, () -> self[0] != null && self[0].serving);
      } catch (IOException e) {
        throw bindFailure("HTTP", config.grpcHost(), config.httpPort(), e);
      }
      background = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "arbor-background");
        t.setDaemon(true);
        return t;
      });
      StandaloneServer server =
          new StandaloneServer(config, metadata, store, trees, treeScheduler, grpc, http, background);
      self[0] = server;
      server.scheduleBackgroundWork(clock);
      treeScheduler.start();
      server.serving = true;
      return server;
    } catch (IOException | RuntimeException e) {
      grpc.shutdownNow();
      if (http != null) {
        http.close();
      }
      if (background != null) {
        background.shutdownNow();
      }
      treeScheduler.close();
      trees.close();
      store.close();
      metadata.close();
      throw e;
    }
  }

  private static IOException bindFailure(String what, String host, int port, IOException e) {
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    String why = root instanceof BindException ? "address already in use" : String.valueOf(root.getMessage());
    return new IOException("cannot listen for " + what + " on " + host + ":" + port + ": " + why, e);
  }

  private void scheduleBackgroundWork(HybridClock clock) {
    long cp = Math.max(1, config.checkpointInterval().toMillis());
    background.scheduleWithFixedDelay(() -> guarded("checkpoint", store::checkpoint), cp, cp, TimeUnit.MILLISECONDS);
    // Bounds the map of writes not yet visible to searches, and the WAL a crash would replay.
    background.scheduleWithFixedDelay(() -> guarded("refresh", () -> {
      for (var s : store.allShards()) {
        s.refresh();
      }
      if (store.walBytesSinceCheckpoint() > config.checkpointWalBytes()) {
        store.checkpoint();
      }
    }), 1, 1, TimeUnit.SECONDS);
    long purgeEvery = Math.max(1000, Math.min(config.tombstoneGrace().toMillis(), TimeUnit.HOURS.toMillis(1)));
    background.scheduleWithFixedDelay(
        () -> guarded("tombstone purge",
            () -> store.purgeTombstones(clock.next() - config.tombstoneGrace().toNanos())),
        purgeEvery, purgeEvery, TimeUnit.MILLISECONDS);
  }

  private interface IoTask {
    void run() throws IOException;
  }

  private static void guarded(String what, IoTask task) {
    try {
      task.run();
    } catch (IOException | RuntimeException e) {
      LOG.error("background {} failed", what, e);
    }
  }

  /** The bound gRPC port (useful when the config asked for port 0). */
  public int grpcPort() {
    return grpc.getPort();
  }

  /** The bound HTTP port. */
  public int httpPort() {
    return http.port();
  }

  /** Blocks until the server has shut down. */
  public void awaitTermination() throws InterruptedException {
    grpc.awaitTermination();
  }

  /** Stops accepting requests, drains in-flight ones, checkpoints and closes storage. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    serving = false;
    grpc.shutdown();
    try {
      if (!grpc.awaitTermination(10, TimeUnit.SECONDS)) {
        grpc.shutdownNow();
        grpc.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      grpc.shutdownNow();
      Thread.currentThread().interrupt();
    }
    // No interrupts: an interrupt inside Lucene I/O closes the index's file channels.
    background.shutdown();
    try {
      background.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    http.close();
    treeScheduler.close();
    trees.close();
    try {
      store.close();
    } catch (IOException | RuntimeException e) {
      LOG.error("closing storage failed; the write-ahead log will be replayed on next start", e);
    }
    metadata.close();
  }
}
