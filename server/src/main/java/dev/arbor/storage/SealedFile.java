package dev.arbor.storage;

import dev.arbor.storage.format.FileFormat;
import dev.arbor.storage.format.FileFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One small file written and read whole inside the {@link FileFormat} envelope (header, body,
 * footer), written atomically by {@link AtomicFileWriter}.
 *
 * <p>A file without the envelope's magic was written before the envelope existed: it is handed
 * back whole as format {@link #LEGACY} for the caller's old-format reader. That reader must check
 * the bytes as strictly as it always did, because a new file whose first bytes are damaged lacks
 * the magic too.
 */
public final class SealedFile {
  /** The format of a file written before the envelope: its bytes, unchanged. */
  public static final int LEGACY = 1;

  private final Path path;
  private final String kind;
  private final int version;

  /** The file at {@code path}, of {@code kind}, written in format {@code version} (above {@link #LEGACY}). */
  public SealedFile(Path path, String kind, int version) {
    if (version <= LEGACY) {
      throw new IllegalArgumentException("sealed formats start above the legacy format " + LEGACY);
    }
    this.path = path;
    this.kind = kind;
    this.version = version;
  }

  public Path path() {
    return path;
  }

  /** Replaces the file with {@code body} in the current format. */
  public void write(byte[] body) throws IOException {
    AtomicFileWriter.write(path, FileFormat.seal(kind, version, body));
  }

  /**
   * The file's format version and body; empty when the file does not exist.
   *
   * @throws FileFormatException when the envelope fails a check (corrupt, truncated, another kind,
   *     written by a newer build); the message names the file
   */
  public Optional<FileFormat.Sealed> read() throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(path);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    if (!FileFormat.startsWithMagic(bytes)) {
      return Optional.of(new FileFormat.Sealed(LEGACY, bytes));
    }
    return Optional.of(FileFormat.unseal(bytes, path.toString(), kind, version, version));
  }
}
