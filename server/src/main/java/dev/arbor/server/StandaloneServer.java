package dev.arbor.server;

import dev.arbor.liaison.PublicApi;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.property.HybridClock;
import dev.arbor.repair.TreeAdminGrpcService;
import dev.arbor.runtime.NodeRuntime;
import dev.arbor.transport.SecurityConfig;
import dev.arbor.transport.ServerSecurity;
import io.grpc.BindableService;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A running standalone Arbor (liaison + data roles, embedded metadata) — a composition root:
 * every component is built and wired here.
 */
public final class StandaloneServer implements AutoCloseable {
  static final String REVISION = "arbor-0.1.0";

  private final MetadataStore metadata;
  private final StorageNode storage;
  private final ServingEndpoints endpoints;
  private final NodeRuntime runtime;
  private boolean closed;

  private StandaloneServer(NodeRuntime runtime, MetadataStore metadata, StorageNode storage,
      ServingEndpoints endpoints) {
    this.runtime = runtime;
    this.metadata = metadata;
    this.storage = storage;
    this.endpoints = endpoints;
  }

  /** Opens the data directory, recovers, and starts serving gRPC and HTTP. */
  public static StandaloneServer start(ServerConfig config) throws IOException {
    return start(config, SecurityConfig.NONE);
  }

  /**
   * As above, the public ports secured as {@code securityConfig} says (TLS, users and roles).
   *
   * @throws IllegalArgumentException a TLS or users file cannot be used; nothing was opened
   */
  public static StandaloneServer start(ServerConfig config, SecurityConfig securityConfig) throws IOException {
    return start(NodeRuntime.system(), config, securityConfig);
  }

  /**
   * As above, on {@code runtime} (the node's clocks and threads), which the server owns from here:
   * {@link #close()} or a failed start closes it last.
   */
  public static StandaloneServer start(NodeRuntime runtime, ServerConfig config, SecurityConfig securityConfig)
      throws IOException {
    try {
      return startOn(runtime, config, securityConfig);
    } catch (IOException | RuntimeException e) {
      runtime.close();
      throw e;
    }
  }

  private static StandaloneServer startOn(NodeRuntime runtime, ServerConfig config, SecurityConfig securityConfig)
      throws IOException {
    ServerSecurity security = securityConfig.open(ApiRoles::required);
    HybridClock clock = new HybridClock(runtime.wallClock()::nanos);
    MetadataStore metadata;
    try {
      metadata = EmbeddedMetadataStore.open(config.dataDir().resolve("meta"), clock);
    } catch (IOException | RuntimeException e) {
      security.close();
      throw e;
    }
    PrometheusMeterRegistry registry = ServingEndpoints.newRegistry();
    StorageNode storage;
    try {
      storage = StorageNode.open(runtime, config, metadata, clock, registry);
    } catch (IOException | RuntimeException e) {
      security.close();
      metadata.close();
      throw e;
    }
    try {
      List<BindableService> services =
          new ArrayList<>(PublicApi.services(metadata, storage.store(), clock, config.limits(), REVISION));
      services.add(new TreeAdminGrpcService(metadata, storage.trees()));
      ServingEndpoints endpoints =
          ServingEndpoints.start(runtime, config.grpcHost(), config.grpcPort(), config.httpPort(), services, registry,
              config.serverLimits(), security);
      endpoints.serveHttpApi();
      endpoints.serveConsole(ConsoleWiring.standalone(metadata, storage, endpoints, config.grpcHost(),
          runtime.wallClock().millis()));
      storage.start(storage.graceOnly());
      endpoints.healthProblems(storage.store()::storageProblems);
      endpoints.markServing();
      return new StandaloneServer(runtime, metadata, storage, endpoints);
    } catch (IOException | RuntimeException e) {
      storage.close();
      metadata.close();
      security.close();
      throw e;
    }
  }

  /** The bound gRPC port (useful when the config asked for port 0). */
  public int grpcPort() {
    return endpoints.grpcPort();
  }

  /** The bound HTTP port. */
  public int httpPort() {
    return endpoints.httpPort();
  }

  /** Blocks until the server has shut down. */
  public void awaitTermination() throws InterruptedException {
    endpoints.awaitTermination();
  }

  /** Stops accepting requests, drains in-flight ones, checkpoints and closes storage. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    endpoints.close();
    storage.close();
    metadata.close();
    runtime.close();
  }
}
