package dev.arbor.storage;

import dev.arbor.property.GroupIncarnation;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * {@code data/<group>/incarnation}: which incarnation of the group the shard data beside it
 * belongs to. {@code "ARBI" ‖ i32 format ‖ i32 CRC32C(incarnation) ‖ 16 bytes incarnation}
 * (little-endian), written atomically. A directory without it was written before incarnations
 * existed.
 */
final class IncarnationFile {
  static final String NAME = "incarnation";
  private static final byte[] MAGIC = {'A', 'R', 'B', 'I'};
  private static final int FORMAT = 1;
  private static final int SIZE = 12 + GroupIncarnation.BYTES;

  private IncarnationFile() {}

  static Optional<GroupIncarnation> read(Path groupDir) throws IOException {
    Path f = groupDir.resolve(NAME);
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(f);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.length != SIZE || !Arrays.equals(bytes, 0, 4, MAGIC, 0, 4)) {
      throw new IOException(f + " is not an Arbor group incarnation file");
    }
    if (b.getInt(4) != FORMAT) {
      throw new IOException(f + ": unsupported incarnation file format " + b.getInt(4));
    }
    byte[] id = Arrays.copyOfRange(bytes, 12, SIZE);
    CRC32C crc = new CRC32C();
    crc.update(id);
    if ((int) crc.getValue() != b.getInt(8)) {
      throw new IOException(f + ": checksum mismatch (file is corrupt)");
    }
    return Optional.of(GroupIncarnation.fromBytes(id));
  }

  static void write(Path groupDir, GroupIncarnation incarnation) throws IOException {
    byte[] id = incarnation.toBytes();
    CRC32C crc = new CRC32C();
    crc.update(id);
    ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
    b.put(MAGIC).putInt(FORMAT).putInt((int) crc.getValue()).put(id);
    AtomicFileWriter.write(groupDir.resolve(NAME), b.array());
  }
}
