package dev.arbor.storage.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;
import org.junit.jupiter.api.Test;

/** Every check of the shared header and footer, and the message each failure gives. */
class FileFormatTest {
  private static final byte[] BODY = "the body".getBytes(StandardCharsets.UTF_8);

  private static FileFormat.Sealed unseal(byte[] file) throws FileFormatException {
    return FileFormat.unseal(file, "f.bin", "metadata", 2, 3);
  }

  @Test
  void sealedFileRoundTripsItsVersionAndBody() throws IOException {
    byte[] file = FileFormat.seal("metadata", 3, BODY);
    assertThat(FileFormat.startsWithMagic(file)).isTrue();
    assertThat(file).hasSize(FileFormat.headerLength("metadata") + BODY.length + FileFormat.FOOTER_LENGTH);
    FileFormat.Sealed s = unseal(file);
    assertThat(s.version()).isEqualTo(3);
    assertThat(s.body()).isEqualTo(BODY);
  }

  @Test
  void headerIsBigEndianWithKindAndVersion() {
    byte[] h = FileFormat.header("wal", 2);
    assertThat(Arrays.copyOf(h, 4)).isEqualTo("ARBF".getBytes(StandardCharsets.US_ASCII));
    assertThat(h[4]).isEqualTo((byte) 3);
    assertThat(new String(h, 5, 3, StandardCharsets.US_ASCII)).isEqualTo("wal");
    assertThat(Arrays.copyOfRange(h, 8, 12)).containsExactly(0, 0, 0, 2);
    assertThat(h).hasSize(FileFormat.headerLength("wal"));
  }

  @Test
  void streamedHeaderAndFooterRoundTrip() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (CheckedOutputStream out = new CheckedOutputStream(bytes, new CRC32C())) {
      FileFormat.writeHeader(new DataOutputStream(out), "tree", 1);
      out.write(BODY);
      FileFormat.writeFooter(out);
    }
    CheckedInputStream in = new CheckedInputStream(new ByteArrayInputStream(bytes.toByteArray()), new CRC32C());
    assertThat(FileFormat.checkHeader(new DataInputStream(in), "t", "tree", 1, 1)).isEqualTo(1);
    assertThat(in.readNBytes(BODY.length)).isEqualTo(BODY);
    FileFormat.checkFooter(in, "t");
  }

  @Test
  void wrongMagicIsNotAnArborFile() {
    byte[] file = FileFormat.seal("metadata", 2, BODY);
    file[0] = 'X';
    assertThatThrownBy(() -> unseal(file))
        .isInstanceOf(FileFormatException.class)
        .hasMessage("f.bin: not an Arbor metadata file")
        .extracting(e -> ((FileFormatException) e).problem()).isEqualTo(FileFormatException.Problem.NOT_ARBOR);
  }

  @Test
  void anotherKindIsNamed() {
    byte[] file = FileFormat.seal("wal-segment", 2, BODY);
    assertThatThrownBy(() -> unseal(file))
        .hasMessage("f.bin: not an Arbor metadata file (it is a wal-segment file)");
  }

  @Test
  void newerVersionAsksForAnUpgrade() {
    byte[] file = FileFormat.seal("metadata", 4, BODY);
    assertThatThrownBy(() -> unseal(file))
        .hasMessage("f.bin: format version 4 is newer than this build supports (max 3); upgrade Arbor")
        .extracting(e -> ((FileFormatException) e).problem()).isEqualTo(FileFormatException.Problem.TOO_NEW);
  }

  @Test
  void olderVersionIsTooOld() {
    byte[] file = FileFormat.seal("metadata", 1, BODY);
    assertThatThrownBy(() -> unseal(file))
        .hasMessage("f.bin: format version 1 is too old for this build (min 2)");
  }

  @Test
  void corruptHeaderFailsItsChecksumBeforeTheVersionIsTrusted() {
    byte[] file = FileFormat.seal("metadata", 2, BODY);
    file[FileFormat.headerLength("metadata") - 5] = 9; // the version's low byte: now "9", newer
    assertThatThrownBy(() -> unseal(file)).hasMessage("f.bin: header checksum mismatch (file is corrupt)");
  }

  @Test
  void corruptBodyFailsTheFooterChecksum() {
    byte[] file = FileFormat.seal("metadata", 2, BODY);
    file[FileFormat.headerLength("metadata") + 1] ^= 0x20;
    assertThatThrownBy(() -> unseal(file)).hasMessage("f.bin: checksum mismatch (file is corrupt)")
        .extracting(e -> ((FileFormatException) e).problem()).isEqualTo(FileFormatException.Problem.CORRUPT);
  }

  @Test
  void truncatedFilesSaySo() {
    byte[] file = FileFormat.seal("metadata", 2, BODY);
    assertThatThrownBy(() -> unseal(Arrays.copyOf(file, 7)))
        .hasMessage("f.bin: truncated (ends inside the header)");
    assertThatThrownBy(() -> unseal(Arrays.copyOf(file, FileFormat.headerLength("metadata") + 3)))
        .hasMessage("f.bin: truncated (no footer)");
    assertThatThrownBy(() -> unseal(Arrays.copyOf(file, file.length - 1)))
        .hasMessage("f.bin: checksum mismatch (file is corrupt)");
  }

  @Test
  void bytesAfterTheFooterAreCorruption() throws IOException {
    byte[] file = FileFormat.seal("metadata", 2, BODY);
    CheckedInputStream in = new CheckedInputStream(
        new ByteArrayInputStream(Arrays.copyOf(file, file.length + 1)), new CRC32C());
    in.readNBytes(file.length - FileFormat.FOOTER_LENGTH);
    assertThatThrownBy(() -> FileFormat.checkFooter(in, "f.bin"))
        .hasMessage("f.bin: bytes after the footer (file is corrupt)");
  }

  @Test
  void kindMustBeShortPrintableAscii() {
    assertThatThrownBy(() -> FileFormat.header("", 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> FileFormat.header("a b", 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> FileFormat.header("x".repeat(33), 1)).isInstanceOf(IllegalArgumentException.class);
  }
}
