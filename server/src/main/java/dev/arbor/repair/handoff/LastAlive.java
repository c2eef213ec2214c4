package dev.arbor.repair.handoff;

import dev.arbor.storage.SealedFile;
import dev.arbor.storage.format.FileFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * The last time this node was known running, persisted in the data directory so that at start it
 * can tell how long it was away. Format 2: the {@link FileFormat} envelope (kind {@value #KIND})
 * around the time as a u64 of epoch milliseconds. Format 1, still read and rewritten in format 2
 * on the next write: three text lines, {@value #LEGACY_MAGIC}, the milliseconds, and the CRC32C of
 * the milliseconds' text in hex.
 */
public final class LastAlive {
  static final String KIND = "last-alive";
  static final int FORMAT = 2;
  private static final String LEGACY_MAGIC = "arbor-last-alive 1";

  private final SealedFile file;

  public LastAlive(Path file) {
    this.file = new SealedFile(file, KIND, FORMAT);
  }

  public Path file() {
    return file.path();
  }

  /**
   * The persisted time; empty when the file was never written.
   *
   * @throws IOException when the file is unreadable or damaged: the message names the file. How long
   *     the node was away is then unknown, which is not the same as never written.
   */
  public Optional<Instant> read() throws IOException {
    Optional<FileFormat.Sealed> s = file.read();
    if (s.isEmpty()) {
      return Optional.empty();
    }
    byte[] body = s.get().body();
    if (s.get().version() == SealedFile.LEGACY) {
      return Optional.of(readLegacy(body));
    }
    if (body.length != Long.BYTES) {
      throw new IOException(file.path() + ": holds " + body.length + " bytes, a last-alive time has "
          + Long.BYTES + " (file is corrupt)");
    }
    return Optional.of(Instant.ofEpochMilli(ByteBuffer.wrap(body).getLong()));
  }

  private Instant readLegacy(byte[] bytes) throws IOException {
    String[] lines = new String(bytes, StandardCharsets.UTF_8).split("\n");
    if (lines.length < 3 || !lines[0].equals(LEGACY_MAGIC) || !lines[2].equals(crc(lines[1]))) {
      throw new IOException(file.path() + " is not a valid last-alive file (no magic, or a checksum mismatch)");
    }
    try {
      return Instant.ofEpochMilli(Long.parseLong(lines[1]));
    } catch (NumberFormatException e) {
      throw new IOException(file.path() + " is not a valid last-alive file: " + e.getMessage(), e);
    }
  }

  public void write(Instant now) throws IOException {
    file.write(ByteBuffer.allocate(Long.BYTES).putLong(now.toEpochMilli()).array());
  }

  private static String crc(String s) {
    CRC32C c = new CRC32C();
    c.update(s.getBytes(StandardCharsets.UTF_8));
    return Long.toHexString(c.getValue());
  }
}
