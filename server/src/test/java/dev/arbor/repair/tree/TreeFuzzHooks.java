package dev.arbor.repair.tree;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** Opens the package-private state.json writer and the tree and state layouts to the fuzz campaign in dev.arbor.fuzz. */
public final class TreeFuzzHooks {
  public static final int FOOTER_SIZE = TreeFileFormat.FOOTER_SIZE;
  public static final int SLOT_RECORD_SIZE = TreeFileFormat.SLOT_RECORD_SIZE;
  /** Where the tree's own header starts: after the shared file header. */
  public static final int TREE_HEADER_START = dev.arbor.storage.format.FileFormat.headerLength(TreeFileFormat.KIND);
  public static final String STATE_KIND = BuildStateFile.KIND;
  public static final int STATE_FORMAT = BuildStateFile.FORMAT;

  private TreeFuzzHooks() {}

  public static void writeState(Path file, BuildState state) throws IOException {
    BuildStateFile.write(file, state);
  }

  public static Optional<BuildState> readState(Path file) throws IOException {
    return BuildStateFile.read(file);
  }
}
