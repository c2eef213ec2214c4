package dev.arbor.storage;

import static dev.arbor.storage.StorageTestSupport.payloads;
import static dev.arbor.storage.StorageTestSupport.walSegments;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.storage.format.FileFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damage in the write-ahead log, on real files: only a torn final append of the last segment is
 * cut off; anything else refuses to start with one message naming the segment, byte and the
 * salvage command, changes nothing, and {@link WalSalvage} then makes the log startable with
 * every frame before the damage. Header-less segments of older builds are still replayed.
 */
class WalDamageTest {
  private static final int SEGMENT_HEADER = WalSegments.header().length;

  @TempDir Path tmp;

  private Path dataDir() {
    return tmp.resolve("node");
  }

  private Path walDir() {
    return dataDir().resolve("wal");
  }

  private static byte[] frame(int i) {
    return ("frame-" + i + "-" + "x".repeat(40)).getBytes(StandardCharsets.UTF_8);
  }

  private static List<byte[]> frames(int from, int to) {
    List<byte[]> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      out.add(frame(i));
    }
    return out;
  }

  /** One session of the log: appends the frames durably and closes (the segment stays). */
  private void session(List<byte[]> payloads) throws IOException {
    try (WriteAheadLog wal = WriteAheadLog.open(walDir()).log()) {
      long pos = 0;
      for (byte[] p : payloads) {
        pos = wal.append(p);
      }
      wal.awaitDurable(pos);
    }
  }

  private List<byte[]> recover() throws IOException {
    WriteAheadLog.Recovered rec = WriteAheadLog.open(walDir());
    try (WriteAheadLog ignored = rec.log()) {
      return payloads(rec);
    }
  }

  private static long frameStart(int index) {
    long at = SEGMENT_HEADER;
    for (int i = 0; i < index; i++) {
      at += 8 + frame(i).length;
    }
    return at;
  }

  private static void flipByte(Path file, long at) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, at);
      b.put(0, (byte) (b.get(0) ^ 0x40)).rewind();
      ch.write(b, at);
    }
  }

  private static void assertRecovered(List<byte[]> actual, List<byte[]> expected) {
    assertThat(actual).hasSize(expected.size());
    for (int i = 0; i < expected.size(); i++) {
      assertThat(actual.get(i)).as("payload %d", i).isEqualTo(expected.get(i));
    }
  }

  @Test
  void newSegmentsStartWithTheFormatHeader() throws IOException {
    session(frames(0, 1));
    Path seg = walSegments(walDir()).get(0);
    assertThat(FileFormat.startsWithMagic(Files.readAllBytes(seg))).isTrue();
    assertThat(WalSegments.scan(seg, false).version()).isEqualTo(2);
  }

  @Test
  void tornTailOfTheLastSegmentIsCutAndTheRestReplayed() throws IOException {
    session(frames(0, 5));
    Path seg = walSegments(walDir()).get(0);
    long size = Files.size(seg);
    try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.WRITE)) {
      ch.truncate(size - 10); // the last append reached the disk only in part
    }
    assertRecovered(recover(), frames(0, 4));
    assertThat(Files.size(seg)).isEqualTo(frameStart(4));
  }

  @Test
  void zeroFilledTailIsATornAppendNotData() throws IOException {
    session(frames(0, 3));
    Path seg = walSegments(walDir()).get(0);
    Files.write(seg, new byte[4096], StandardOpenOption.APPEND); // size grew, data never came
    assertRecovered(recover(), frames(0, 3));
    assertThat(Files.size(seg)).isEqualTo(frameStart(3));
  }

  @Test
  void flippedByteInAMiddleFrameRefusesToStartAndChangesNothing() throws IOException {
    session(frames(0, 6));
    Path seg = walSegments(walDir()).get(0);
    flipByte(seg, frameStart(2) + 8 + 3);
    byte[] before = Files.readAllBytes(seg);
    List<Path> segmentsBefore = walSegments(walDir());

    assertThatThrownBy(this::recover)
        .isInstanceOf(StorageException.class)
        .hasMessageContaining("write-ahead log segment " + seg)
        .hasMessageContaining("damaged at byte " + frameStart(2))
        .hasMessageContaining("frame checksum mismatch; valid frames follow at byte " + frameStart(3))
        .hasMessageContaining("acknowledged writes may be lost")
        .hasMessageContaining("arbor wal salvage --data-dir " + dataDir().toAbsolutePath())
        .message().doesNotContain("\n");
    assertThat(Files.readAllBytes(seg)).as("nothing trimmed").isEqualTo(before);
    assertThat(walSegments(walDir())).as("no segment created").isEqualTo(segmentsBefore);
  }

  @Test
  void truncatedSegmentBeforeTheLastRefusesToStart() throws IOException {
    session(frames(0, 4));
    session(frames(4, 6));
    List<Path> segs = walSegments(walDir());
    Path first = segs.get(0);
    try (FileChannel ch = FileChannel.open(first, StandardOpenOption.WRITE)) {
      ch.truncate(frameStart(3) + 5);
    }
    assertThatThrownBy(this::recover)
        .isInstanceOf(StorageException.class)
        .hasMessageContaining(first.toString())
        .hasMessageContaining("damaged at byte " + frameStart(3))
        .hasMessageContaining("it is not the last segment");
    assertThat(Files.size(first)).isEqualTo(frameStart(3) + 5);
  }

  @Test
  void salvageKeepsEveryFrameBeforeTheDamageAndSavesTheOriginal() throws IOException {
    session(frames(0, 6));
    session(frames(6, 8));
    List<Path> segs = walSegments(walDir());
    Path damaged = segs.get(0);
    flipByte(damaged, frameStart(3) + 8 + 1);
    byte[] original = Files.readAllBytes(damaged);
    assertThatThrownBy(this::recover).isInstanceOf(StorageException.class);

    WalSalvage.Report report = WalSalvage.salvage(dataDir(), Instant.parse("2026-01-02T03:04:05Z"));

    assertThat(report.outcomes()).singleElement().satisfies(o -> {
      assertThat(o.scan().path()).isEqualTo(damaged);
      assertThat(o.keptFrames()).isEqualTo(3);
      assertThat(o.droppedBytes()).isEqualTo(original.length - frameStart(3));
      assertThat(o.original()).isEqualTo(walDir().resolve("salvaged-20260102T030405Z").resolve(damaged.getFileName()));
      assertThat(Files.readAllBytes(o.original())).as("original kept byte for byte").isEqualTo(original);
    });
    List<byte[]> expected = new ArrayList<>(frames(0, 3));
    expected.addAll(frames(6, 8));
    assertRecovered(recover(), expected);
  }

  @Test
  void salvageRefusesWhileTheDataDirectoryIsLocked() throws IOException {
    try (PropertyStore store = PropertyStore.open(dataDir(), g -> true)) {
      assertThatThrownBy(() -> WalSalvage.salvage(dataDir(), Instant.now()))
          .isInstanceOf(StorageException.class)
          .hasMessageContaining("in use");
    }
  }

  @Test
  void segmentOfAnotherKindOrANewerFormatIsRefusedWithItsReason() throws IOException {
    session(frames(0, 2));
    Path seg = walSegments(walDir()).get(0);
    byte[] bytes = Files.readAllBytes(seg);
    byte[] newer = FileFormat.header(WalSegments.KIND, 3);
    System.arraycopy(newer, 0, bytes, 0, newer.length);
    Files.write(seg, bytes);
    assertThatThrownBy(this::recover)
        .isInstanceOf(StorageException.class)
        .hasMessage(seg + ": format version 3 is newer than this build supports (max 2); upgrade Arbor");

    Files.write(seg, FileFormat.header("metadata", 2));
    assertThatThrownBy(this::recover)
        .hasMessageContaining("damaged at byte 0")
        .hasMessageContaining("not an Arbor wal-segment file (it is a metadata file)");
  }

  @Test
  void headerlessSegmentOfAnOlderBuildIsReplayedThenNewSegmentsHaveHeaders() throws IOException {
    Files.createDirectories(walDir());
    Path legacy = walDir().resolve(WalSegments.name(6));
    try (FileChannel ch = FileChannel.open(legacy, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (byte[] p : frames(0, 3)) {
        ch.write(WalFrameLayout.LEGACY.encode(p));
      }
    }
    assertThat(WalSegments.scan(legacy, false).version()).isEqualTo(1);
    WriteAheadLog.Recovered rec = WriteAheadLog.open(walDir());
    try (WriteAheadLog wal = rec.log()) {
      assertRecovered(payloads(rec), frames(0, 3));
      wal.awaitDurable(wal.append(frame(3)));
    }
    assertRecovered(recover(), frames(0, 4));
    assertThat(WalSegments.scan(walDir().resolve(WalSegments.name(7)), true).version()).isEqualTo(2);
  }

  @Test
  void aHeaderlessSegmentAfterOneWithAHeaderIsDamageNotAnOldSegment() throws IOException {
    session(frames(0, 2));
    session(frames(2, 4));
    Path second = walSegments(walDir()).get(1);
    byte[] bytes = Files.readAllBytes(second);
    bytes[0] = 'X'; // magic hit
    Files.write(second, bytes);
    assertThatThrownBy(this::recover)
        .hasMessageContaining(second + " is damaged at byte 0")
        .hasMessageContaining("no segment header, but an earlier segment has one");
  }

  @Test
  void aFrameWithAGoodChecksumThatCannotBeDecodedStopsTheStoreAndDeletesNothing() throws IOException {
    session(List.of(new byte[] {9, 0, 0, 0, 1})); // a batch format this build does not know
    Path seg = walSegments(walDir()).get(0);
    byte[] bytes = Files.readAllBytes(seg);
    for (int attempt = 0; attempt < 2; attempt++) {
      assertThatThrownBy(() -> PropertyStore.open(dataDir(), g -> true))
          .as("attempt %d", attempt)
          .isInstanceOf(StorageException.class)
          .hasMessageContaining(seg + ": the frame at byte " + SEGMENT_HEADER + " has a valid checksum but cannot be decoded");
      assertThat(Files.readAllBytes(seg)).as("the segment survives a failed start").isEqualTo(bytes);
    }
  }
}
