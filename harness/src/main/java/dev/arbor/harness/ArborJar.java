package dev.arbor.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipFile;

/**
 * A shaded {@code arbor} server jar and what its build supports. The benchmarks measure an older
 * build against a newer one in one run, so flags a build lacks must not be passed to it.
 */
public record ArborJar(Path path, boolean hasInternalListener) {
  /** The jar at {@code path}; fails with the build command when it does not exist. */
  public static ArborJar of(Path path) {
    Path jar = path.toAbsolutePath().normalize();
    if (!Files.isRegularFile(jar)) {
      throw new HarnessException("Arbor server jar not found at " + jar
          + ": build it first with `./mvnw -B -DskipTests package` (module server)");
    }
    try (ZipFile z = new ZipFile(jar.toFile())) {
      // Builds from before the listener split serve a data node's internal API on its one gRPC
      // port and refuse --internal-host/--internal-port.
      return new ArborJar(jar, z.getEntry("dev/arbor/server/InternalListener.class") != null);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + jar, e);
    }
  }
}
