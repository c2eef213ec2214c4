package dev.arbor.repair.tree;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.arbor.storage.AtomicFileWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Reads and atomically writes {@code state.json}. An unreadable file reads as corrupt. */
final class BuildStateFile {
  private static final ObjectMapper JSON = new ObjectMapper();

  private BuildStateFile() {}

  static void write(Path file, BuildState state) throws IOException {
    AtomicFileWriter.write(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(state));
  }

  /** The state, empty when absent; throws {@link CorruptTreeException} when unreadable. */
  static Optional<BuildState> read(Path file) throws IOException {
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    try {
      BuildState s = JSON.readValue(file.toFile(), BuildState.class);
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
