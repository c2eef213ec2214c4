package dev.arbor.repair.handoff;

import dev.arbor.storage.AtomicFileWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last time this node was known running, persisted in the data directory (rewritten
 * atomically, checksummed) so that at start it can tell how long it was away.
 */
public final class LastAlive {
  private static final Logger LOG = LoggerFactory.getLogger(LastAlive.class);
  private static final String MAGIC = "arbor-last-alive 1";

  private final Path file;

  public LastAlive(Path file) {
    this.file = file;
  }

  /** Empty when never written, or unreadable (logged). */
  public Optional<Instant> read() {
    try {
      String[] lines = Files.readString(file, StandardCharsets.UTF_8).split("\n");
      if (lines.length < 3 || !lines[0].equals(MAGIC) || !lines[2].equals(crc(lines[1]))) {
        LOG.error("{} is not a valid last-alive file; treated as missing", file);
        return Optional.empty();
      }
      return Optional.of(Instant.ofEpochMilli(Long.parseLong(lines[1])));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException | NumberFormatException e) {
      LOG.error("reading {} failed; treated as missing", file, e);
      return Optional.empty();
    }
  }

  public void write(Instant now) throws IOException {
    String millis = Long.toString(now.toEpochMilli());
    AtomicFileWriter.write(file, (MAGIC + "\n" + millis + "\n" + crc(millis) + "\n").getBytes(StandardCharsets.UTF_8));
  }

  private static String crc(String s) {
    CRC32C c = new CRC32C();
    c.update(s.getBytes(StandardCharsets.UTF_8));
    return Long.toHexString(c.getValue());
  }
}
