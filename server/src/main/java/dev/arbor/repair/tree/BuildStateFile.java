package dev.arbor.repair.tree;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.arbor.storage.SealedFile;
import dev.arbor.storage.format.FileFormat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Reads and atomically writes {@code state.json}. Format 2: the {@link FileFormat} envelope (kind
 * {@value #KIND}) around the JSON of a {@link BuildState}. Format 1, still read (the next build
 * writes format 2): the JSON alone. An unreadable file reads as corrupt; the tree is rebuilt.
 */
public final class BuildStateFile {
  static final String KIND = "tree-build-state";
  static final int FORMAT = 2;
  private static final ObjectMapper JSON = new ObjectMapper();

  private BuildStateFile() {}

  static void write(Path file, BuildState state) throws IOException {
    new SealedFile(file, KIND, FORMAT).write(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(state));
  }

  /** The state, empty when absent; throws {@link CorruptTreeException} when unreadable. */
  public static Optional<BuildState> read(Path file) throws IOException {
    Optional<FileFormat.Sealed> sealed;
    try {
      sealed = new SealedFile(file, KIND, FORMAT).read();
    } catch (dev.arbor.storage.format.FileFormatException e) {
      throw new CorruptTreeException(e.getMessage());
    }
    if (sealed.isEmpty()) {
      return Optional.empty();
    }
    try {
      BuildState s = JSON.readValue(sealed.get().body(), BuildState.class);
      if (s.format() != BuildState.FORMAT || s.group() == null || s.root() == null) {
        throw new CorruptTreeException(file + ": unsupported or incomplete build state");
      }
      return Optional.of(s);
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw new CorruptTreeException(file + ": unreadable build state: " + e.getOriginalMessage());
    } catch (java.io.CharConversionException e) {
      // Jackson's encoding detection reports bytes that are no Unicode this way, outside JacksonException.
      throw new CorruptTreeException(file + ": unreadable build state: " + e.getMessage());
    }
  }
}
