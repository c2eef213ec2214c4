package dev.arbor.server.cli;

import dev.arbor.server.ServerConfig;
import dev.arbor.server.StandaloneServer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code arbor standalone}: liaison and data roles in one process with embedded metadata. Runs
 * until SIGTERM or Ctrl-C, then shuts down gracefully (drains calls, checkpoints) and exits 0.
 */
@Command(
    name = "standalone",
    mixinStandardHelpOptions = true,
    description = "Run Arbor standalone: the public API and storage in one process, embedded metadata.")
public final class StandaloneCommand implements Callable<Integer> {
  @Option(names = "--data-dir", defaultValue = "./data", description = "Data directory (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Mixin ListenOptions listen;
  @Mixin LimitOptions limits;
  @Mixin StorageOptions storage;
  @Mixin SecurityOptions security;

  @Override
  public Integer call() throws Exception {
    ServerConfig config = storage.config(dataDir, listen.host, listen.grpcPort, listen.httpPort, limits.limits())
        .withServerLimits(listen.serverLimits());
    dev.arbor.transport.SecurityConfig securityConfig = security.config();
    UntilSignal signal = new UntilSignal();
    // The node's one runtime (clocks, threads); the server owns and closes it.
    try (StandaloneServer server = StandaloneServer.start(dev.arbor.runtime.NodeRuntime.system(), config,
        securityConfig)) {
      ServingLine.print(System.out,
          "Arbor standalone serving gRPC on %s:%d, HTTP on %s:%d, data in %s (%s)",
          listen.host, server.grpcPort(), listen.host, server.httpPort(), dataDir.toAbsolutePath(),
          security.describe());
      signal.await();
      System.out.println("Arbor standalone shutting down");
    }
    return 0;
  }
}
