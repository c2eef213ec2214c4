package dev.arbor.storage;

import dev.arbor.property.GroupIncarnation;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** Opens the package-private incarnation file reader and writer to tests in other packages (fixtures, fuzz). */
public final class IncarnationFileAccess {
  public static final String KIND = IncarnationFile.KIND;
  public static final int FORMAT = IncarnationFile.FORMAT;

  private IncarnationFileAccess() {}

  public static Optional<GroupIncarnation> read(Path groupDir) throws IOException {
    return IncarnationFile.read(groupDir);
  }

  public static void write(Path groupDir, GroupIncarnation incarnation) throws IOException {
    IncarnationFile.write(groupDir, incarnation);
  }
}
