package dev.arbor.storage;

import dev.arbor.property.GroupIncarnation;
import dev.arbor.storage.format.FileFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * {@code data/<group>/incarnation}: which incarnation of the group the shard data beside it
 * belongs to. Format 2: the {@link FileFormat} envelope (kind {@value #KIND}) around the 16 bytes
 * of the incarnation, written atomically. Format 1, still read (rewritten in format 2 whenever the
 * file is written again): {@code "ARBI" ‖ i32 1 ‖ i32 CRC32C(incarnation) ‖ 16 bytes incarnation},
 * little-endian. A directory without the file was written before incarnations existed.
 *
 * <p>A damaged file stops the open: guessing would either serve another incarnation's data as the
 * group's or set the group's own data aside as another incarnation's.
 */
final class IncarnationFile {
  static final String NAME = "incarnation";
  static final String KIND = "group-incarnation";
  static final int FORMAT = 2;
  private static final byte[] LEGACY_MAGIC = {'A', 'R', 'B', 'I'};
  private static final int LEGACY_SIZE = 12 + GroupIncarnation.BYTES;

  private IncarnationFile() {}

  static Optional<GroupIncarnation> read(Path groupDir) throws IOException {
    SealedFile f = file(groupDir);
    try {
      Optional<FileFormat.Sealed> s = f.read();
      if (s.isEmpty()) {
        return Optional.empty();
      }
      byte[] body = s.get().body();
      if (s.get().version() == SealedFile.LEGACY) {
        return Optional.of(readLegacy(f.path(), body));
      }
      if (body.length != GroupIncarnation.BYTES) {
        throw new IOException(f.path() + ": holds " + body.length + " bytes, an incarnation has "
            + GroupIncarnation.BYTES + " (file is corrupt)");
      }
      return Optional.of(GroupIncarnation.fromBytes(body));
    } catch (IOException e) {
      String group = groupDir.getFileName().toString();
      throw new IOException(e.getMessage() + ". The node does not start rather than guess which incarnation of group "
          + group + " the data in " + groupDir + " belongs to. To recover: if the group has replicas, move " + groupDir
          + " out of the data directory and repair copies the group back from the other replicas; if you know the"
          + " data is the group's current incarnation, delete " + f.path() + " and the data adopts the incarnation"
          + " metadata holds", e);
    }
  }

  private static GroupIncarnation readLegacy(Path f, byte[] bytes) throws IOException {
    if (bytes.length != LEGACY_SIZE || !Arrays.equals(bytes, 0, 4, LEGACY_MAGIC, 0, 4)) {
      throw new IOException(f + " is not an Arbor group incarnation file");
    }
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (b.getInt(4) != SealedFile.LEGACY) {
      throw new IOException(f + ": unsupported incarnation file format " + b.getInt(4));
    }
    byte[] id = Arrays.copyOfRange(bytes, 12, LEGACY_SIZE);
    CRC32C crc = new CRC32C();
    crc.update(id);
    if ((int) crc.getValue() != b.getInt(8)) {
      throw new IOException(f + ": checksum mismatch (file is corrupt)");
    }
    return GroupIncarnation.fromBytes(id);
  }

  static void write(Path groupDir, GroupIncarnation incarnation) throws IOException {
    file(groupDir).write(incarnation.toBytes());
  }

  private static SealedFile file(Path groupDir) {
    return new SealedFile(groupDir.resolve(NAME), KIND, FORMAT);
  }
}
