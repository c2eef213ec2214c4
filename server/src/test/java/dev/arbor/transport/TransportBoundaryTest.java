package dev.arbor.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Channels and servers are built in this package only, so TLS, credentials, limits and
 * interceptors cannot be forgotten by a caller that builds its own: a scan of every module's main
 * and test sources (the integration tests, the benchmarks and their process harness included) for gRPC's builders.
 */
class TransportBoundaryTest {
  /** What builds a channel or a server without this package. */
  private static final Pattern BUILDER = Pattern.compile(
      "\\b(ManagedChannelBuilder|NettyChannelBuilder|NettyServerBuilder|ServerBuilder|InProcessChannelBuilder"
          + "|InProcessServerBuilder|OkHttpChannelBuilder)\\b|\\.usePlaintext\\(|Grpc\\.new(Channel|Server)Builder");

  /** Where the builders belong. */
  private static final Path TRANSPORT = Path.of("server", "src", "main", "java", "dev", "arbor", "transport");

  /**
   * Files outside {@link #TRANSPORT} allowed to name a builder, each with its reason. This test
   * names them to look for them.
   */
  private static final Map<Path, String> EXCEPTIONS = Map.of(
      Path.of("server", "src", "test", "java", "dev", "arbor", "transport", "TransportBoundaryTest.java"),
      "the scan's own pattern",
      Path.of("server", "src", "test", "java", "dev", "arbor", "simulation", "SimNetwork.java"),
      "the simulation's in-process network (its nodes' channels still come from ChannelFactory.over)",
      Path.of("server", "src", "test", "java", "dev", "arbor", "transport", "BareServers.java"),
      "bare servers for tests' stand-in peers, kept out of production code");

  @Test
  void nothingOutsideTheTransportPackageBuildsAChannelOrAServer() throws IOException {
    Path root = projectRoot();
    List<Path> sourceRoots = new ArrayList<>();
    for (String module : List.of("api", "server", "harness", "it", "bench")) {
      for (String kind : List.of("main", "test")) {
        Path dir = root.resolve(module).resolve("src").resolve(kind).resolve("java");
        if (Files.isDirectory(dir)) {
          sourceRoots.add(dir);
        }
      }
    }
    // The modules this test must see, so a moved directory cannot make it pass vacuously.
    assertThat(sourceRoots).contains(root.resolve("server/src/main/java"), root.resolve("server/src/test/java"),
        root.resolve("harness/src/main/java"), root.resolve("it/src/test/java"), root.resolve("bench/src/main/java"));

    List<String> offenders = new ArrayList<>();
    int scanned = 0;
    for (Path dir : sourceRoots) {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
          scanned++;
          Path relative = root.relativize(file);
          if (relative.startsWith(TRANSPORT) || EXCEPTIONS.containsKey(relative)) {
            continue;
          }
          List<String> lines = Files.readAllLines(file);
          for (int i = 0; i < lines.size(); i++) {
            Matcher m = BUILDER.matcher(lines.get(i));
            if (m.find()) {
              offenders.add(relative + ":" + (i + 1) + ": " + m.group());
            }
          }
        }
      }
    }
    assertThat(scanned).as("source files scanned").isGreaterThan(100);
    assertThat(offenders)
        .as("use dev.arbor.transport.ChannelFactory (withInterceptors, withFlowControlWindow) or"
            + " GrpcServers.start (tests: BareServers) instead")
        .isEmpty();
  }

  @Test
  void thePatternFindsEveryBuilder() {
    assertThat(Stream.of("NettyChannelBuilder.forAddress(h, p)", "ManagedChannelBuilder.forTarget(t)",
        "io.grpc.ServerBuilder.forPort(0)", "NettyServerBuilder.forAddress(a)", "b.usePlaintext()",
        "Grpc.newChannelBuilder(t, c)", "InProcessServerBuilder.forName(n)"))
        .allMatch(line -> BUILDER.matcher(line).find());
    assertThat(BUILDER.matcher("ChannelFactory.plaintext().open(target, size)").find()).isFalse();
    assertThat(BUILDER.matcher("BareServers.start(host, 0, service)").find()).isFalse();
  }

  /** The directory of the parent pom (tests run in the module's directory). */
  private static Path projectRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null) {
      if (Files.isDirectory(dir.resolve("server")) && Files.isDirectory(dir.resolve("it"))
          && Files.exists(dir.resolve("pom.xml"))) {
        return dir;
      }
      dir = dir.getParent();
    }
    throw new UncheckedIOException(new IOException("no project root above " + Path.of("").toAbsolutePath()));
  }
}
