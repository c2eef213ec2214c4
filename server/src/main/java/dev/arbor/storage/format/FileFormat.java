package dev.arbor.storage.format;

import dev.arbor.storage.format.FileFormatException.Problem;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInput;
import java.io.DataInputStream;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * Header and footer of every file Arbor writes (the idea of Lucene's {@code CodecUtil}); all
 * integers big-endian:
 *
 * <pre>
 * header : "ARBF" | u8 kindLength | kind (ASCII) | u32 version | u32 crc32c(header bytes before it)
 * footer : "FBRA" | u32 crc32c(every byte of the file before this field)
 * </pre>
 *
 * <p>The header has its own checksum so that an append-only file (a WAL segment, which has no
 * footer and guards each frame instead) is still checked before its version is trusted. The kind
 * keeps one Arbor file from being read as another.
 */
public final class FileFormat {
  /** "ARBF". */
  public static final byte[] MAGIC = {'A', 'R', 'B', 'F'};
  /** "FBRA". */
  public static final int FOOTER_MAGIC = 0x46425241;
  public static final int FOOTER_LENGTH = 8;
  private static final int MAX_KIND = 32;

  private FileFormat() {}

  /** Bytes of the header of a file of {@code kind}. */
  public static int headerLength(String kind) {
    return 4 + 1 + checkKind(kind).length + 4 + 4;
  }

  /** Header bytes of a file of {@code kind} in format {@code version}. */
  public static byte[] header(String kind, int version) {
    byte[] k = checkKind(kind);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(headerLength(kind));
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.write(MAGIC);
      out.writeByte(k.length);
      out.write(k);
      out.writeInt(version);
      CRC32C crc = new CRC32C();
      crc.update(bytes.toByteArray());
      out.writeInt((int) crc.getValue());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  public static void writeHeader(DataOutput out, String kind, int version) throws IOException {
    out.write(header(kind, version));
  }

  /** Whether {@code bytes} starts with the magic of an Arbor file (detects files older than it). */
  public static boolean startsWithMagic(byte[] bytes) {
    return bytes.length >= MAGIC.length && Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length);
  }

  /**
   * Reads and checks a header: magic, kind, header checksum, then the version against what this
   * build reads. Returns the version. {@code file} names the file in messages.
   */
  public static int checkHeader(DataInput in, String file, String kind, int minVersion, int maxVersion)
      throws FileFormatException {
    byte[] expectedKind = checkKind(kind);
    try {
      byte[] magic = new byte[MAGIC.length];
      in.readFully(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new FileFormatException(Problem.NOT_ARBOR, file + ": not an Arbor " + kind + " file");
      }
      int kindLength = in.readUnsignedByte();
      byte[] actualKind = new byte[kindLength];
      in.readFully(actualKind);
      int version = in.readInt();
      int stored = in.readInt();
      CRC32C crc = new CRC32C();
      crc.update(MAGIC);
      crc.update(kindLength);
      crc.update(actualKind);
      crc.update(new byte[] {(byte) (version >>> 24), (byte) (version >>> 16), (byte) (version >>> 8), (byte) version});
      if ((int) crc.getValue() != stored) {
        throw new FileFormatException(Problem.CORRUPT, file + ": header checksum mismatch (file is corrupt)");
      }
      if (!Arrays.equals(actualKind, expectedKind)) {
        throw new FileFormatException(Problem.WRONG_KIND, file + ": not an Arbor " + kind + " file (it is a "
            + new String(actualKind, StandardCharsets.US_ASCII) + " file)");
      }
      if (version > maxVersion) {
        throw new FileFormatException(Problem.TOO_NEW, file + ": format version " + version
            + " is newer than this build supports (max " + maxVersion + "); upgrade Arbor");
      }
      if (version < minVersion) {
        throw new FileFormatException(Problem.TOO_OLD, file + ": format version " + version
            + " is too old for this build (min " + minVersion + ")");
      }
      return version;
    } catch (EOFException e) {
      throw new FileFormatException(Problem.TRUNCATED, file + ": truncated (ends inside the header)");
    } catch (FileFormatException e) {
      throw e;
    } catch (IOException e) {
      throw new FileFormatException(Problem.TRUNCATED, file + ": unreadable header: " + e.getMessage());
    }
  }

  /** Writes the footer; {@code out} must have checksummed every byte of the file with CRC32C. */
  public static void writeFooter(CheckedOutputStream out) throws IOException {
    requireCrc32c(out.getChecksum());
    DataOutputStream data = new DataOutputStream(out);
    data.writeInt(FOOTER_MAGIC);
    data.writeInt((int) out.getChecksum().getValue());
    data.flush();
  }

  /**
   * Reads and checks the footer, which must end the file; {@code in} must have checksummed every
   * byte before it with CRC32C.
   */
  public static void checkFooter(CheckedInputStream in, String file) throws FileFormatException {
    requireCrc32c(in.getChecksum());
    try {
      DataInputStream data = new DataInputStream(in);
      int magic = data.readInt();
      long expected = in.getChecksum().getValue();
      int stored = data.readInt();
      if (magic != FOOTER_MAGIC || (int) expected != stored) {
        throw new FileFormatException(Problem.CORRUPT, file + ": checksum mismatch (file is corrupt)");
      }
      if (in.read() >= 0) {
        throw new FileFormatException(Problem.CORRUPT, file + ": bytes after the footer (file is corrupt)");
      }
    } catch (EOFException e) {
      throw new FileFormatException(Problem.TRUNCATED, file + ": truncated (no footer)");
    } catch (FileFormatException e) {
      throw e;
    } catch (IOException e) {
      throw new FileFormatException(Problem.CORRUPT, file + ": unreadable footer: " + e.getMessage());
    }
  }

  /** A whole file: header, {@code body}, footer. */
  public static byte[] seal(String kind, int version, byte[] body) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(headerLength(kind) + body.length + FOOTER_LENGTH);
    try (CheckedOutputStream out = new CheckedOutputStream(bytes, new CRC32C())) {
      out.write(header(kind, version));
      out.write(body);
      writeFooter(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** A file read whole by {@link #unseal}: its format version and body. */
  public record Sealed(int version, byte[] body) {}

  /** Checks header and footer of a whole file written by {@link #seal} and returns its body. */
  public static Sealed unseal(byte[] file, String name, String kind, int minVersion, int maxVersion)
      throws FileFormatException {
    int version = checkHeader(new DataInputStream(new ByteArrayInputStream(file)), name, kind, minVersion, maxVersion);
    int bodyStart = headerLength(kind);
    int footerStart = file.length - FOOTER_LENGTH;
    if (footerStart < bodyStart) {
      throw new FileFormatException(Problem.TRUNCATED, name + ": truncated (no footer)");
    }
    CheckedInputStream in = new CheckedInputStream(new ByteArrayInputStream(file), new CRC32C());
    try {
      in.readNBytes(footerStart); // through the checksum
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a byte array never fails
    }
    checkFooter(in, name);
    byte[] body = Arrays.copyOfRange(file, bodyStart, footerStart);
    return new Sealed(version, body);
  }

  private static byte[] checkKind(String kind) {
    byte[] k = kind.getBytes(StandardCharsets.US_ASCII);
    if (k.length == 0 || k.length > MAX_KIND || !kind.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw new IllegalArgumentException("file kind must be 1-" + MAX_KIND + " printable ASCII characters: " + kind);
    }
    return k;
  }

  private static void requireCrc32c(java.util.zip.Checksum checksum) {
    if (!(checksum instanceof CRC32C)) {
      throw new IllegalArgumentException("the footer checksum is CRC32C");
    }
  }
}
