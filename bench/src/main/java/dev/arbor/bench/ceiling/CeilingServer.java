package dev.arbor.bench.ceiling;

import dev.arbor.liaison.ApiVersionGrpcService;
import dev.arbor.server.ServingEndpoints;
import dev.arbor.transport.GrpcServerLimits;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The no-storage gRPC "ceiling" server that {@code arbor-bench api --ceiling} starts as a child
 * process, like the real server, so that client and server share the cores the same way.
 *
 * <p>It is built by the server's own {@link ServingEndpoints} with the standalone server's default
 * {@link GrpcServerLimits}: the same Netty server builder (message size, per-connection streams,
 * keepalive, connection age), the same call limiter and metrics interceptors on every call, the
 * same default executor, and the same HTTP {@code /health} the benchmark waits for. Only the
 * property service differs ({@link CeilingPropertyService}: answers without storing). Its apply
 * rate is therefore what this machine's gRPC layer allows with the benchmark's client, the bound
 * the storage engine's apply rate is compared with. The server classes are those shaded into the
 * bench jar, i.e. of the bench's own build, whichever server jars are compared.
 */
@Command(name = "ceiling", mixinStandardHelpOptions = true, sortOptions = false,
    version = "arbor-bench ceiling 0.1.0",
    description = "A gRPC server speaking Arbor's property API that stores nothing (Apply answers"
        + " created at once); the bound for `api --ceiling`.")
public final class CeilingServer implements Callable<Integer> {
  /** Printed once serving (the benchmark waits for /health; people read this). */
  public static final String READY = "arbor-bench ceiling serving";

  @Option(names = "--grpc-host", defaultValue = "127.0.0.1",
      description = "Address to listen on (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--grpc-port", defaultValue = "0",
      description = "gRPC port (default: ${DEFAULT-VALUE} = any free port).")
  int grpcPort;

  @Option(names = "--http-port", defaultValue = "0",
      description = "HTTP port of /health and /metrics (default: ${DEFAULT-VALUE} = any free port).")
  int httpPort;

  public static void main(String[] args) {
    System.exit(new CommandLine(new CeilingServer()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    ServingEndpoints endpoints = start(host, grpcPort, httpPort);
    Runtime.getRuntime().addShutdownHook(new Thread(endpoints::close, "ceiling-shutdown"));
    System.out.printf("%s: gRPC %s:%d, HTTP %d%n", READY, host, endpoints.grpcPort(),
        endpoints.httpPort());
    System.out.flush();
    endpoints.awaitTermination();
    return 0;
  }

  /** Starts serving (health 200 once this returns); for the command above and for tests. */
  public static ServingEndpoints start(String host, int grpcPort, int httpPort)
      throws java.io.IOException {
    ServingEndpoints endpoints = ServingEndpoints.start(host, grpcPort, httpPort,
        List.of(new CeilingPropertyService(), new ApiVersionGrpcService("0.9", "ceiling")),
        ServingEndpoints.newRegistry(), GrpcServerLimits.DEFAULTS);
    endpoints.markServing();
    return endpoints;
  }
}
