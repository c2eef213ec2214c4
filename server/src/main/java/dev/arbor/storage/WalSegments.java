package dev.arbor.storage;

import dev.arbor.storage.format.FileFormat;
import dev.arbor.storage.format.FileFormatException;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * The segment files of a write-ahead log directory: naming, the segment header, and reading them
 * (see {@code docs/storage.md}). A segment of format 2 starts with the {@link FileFormat} header
 * of kind {@value #KIND}; format 1, an older build's, has no header and is recognised by the
 * missing magic (its first four bytes are a little-endian frame length below 256 MiB, which can
 * never read as the magic).
 */
public final class WalSegments {
  static final String KIND = "wal-segment";
  static final int LEGACY_VERSION = 1;
  static final int VERSION = 2;

  private WalSegments() {}

  /** The segment files of {@code walDir} in log order. */
  public static List<Path> list(Path walDir) throws IOException {
    try (Stream<Path> s = Files.list(walDir)) {
      return s.filter(p -> p.getFileName().toString().matches("wal-\\d{20}\\.log") && Files.isRegularFile(p))
          .sorted()
          .toList();
    }
  }

  static String name(long seq) {
    return String.format("wal-%020d.log", seq);
  }

  static long seqOf(Path segment) {
    return Long.parseLong(segment.getFileName().toString().substring(4, 24));
  }

  /** Header bytes of a new segment. */
  static byte[] header() {
    return FileFormat.header(KIND, VERSION);
  }

  /** Reads every segment of {@code walDir} in order; changes nothing. */
  public static List<WalSegmentScan> scanAll(Path walDir) throws IOException {
    List<WalSegmentScan> out = new ArrayList<>();
    boolean headerSeen = false;
    for (Path p : list(walDir)) {
      WalSegmentScan s = scan(p, headerSeen);
      headerSeen |= s.version() >= VERSION || s.dataStart() > 0;
      out.add(s);
    }
    return out;
  }

  /**
   * Reads one segment, checking its header and every frame. {@code headerExpected}: an earlier
   * segment had a header, so this one must have one too (older builds' segments all come first).
   */
  static WalSegmentScan scan(Path segment, boolean headerExpected) throws IOException {
    try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size == 0) {
        return new WalSegmentScan(segment, 0, 0, 0, 0, 0, null);
      }
      byte[] start = read(ch, 0, (int) Math.min(size, 5));
      boolean magic = FileFormat.startsWithMagic(start);
      if (magic || (size < FileFormat.MAGIC.length
          && Arrays.equals(start, 0, start.length, FileFormat.MAGIC, 0, start.length))) {
        return scanWithHeader(ch, segment, size, start);
      }
      if (headerExpected) {
        return headerDamage(ch, segment, size, WalDamage.Cause.BAD_HEADER,
            "no segment header, but an earlier segment has one");
      }
      return scanFrames(ch, segment, size, LEGACY_VERSION, 0);
    }
  }

  private static WalSegmentScan scanWithHeader(FileChannel ch, Path segment, long size, byte[] start)
      throws IOException {
    if (start.length < 5 || size < 5 + (start[4] & 0xff) + 8L) {
      return new WalSegmentScan(segment, size, VERSION, 0, 0, 0, new WalDamage(0, WalDamage.Cause.TORN_HEADER,
          "incomplete segment header (" + size + " bytes)", -1));
    }
    int headerLength = 5 + (start[4] & 0xff) + 8;
    byte[] header = read(ch, 0, headerLength);
    try {
      FileFormat.checkHeader(new DataInputStream(new ByteArrayInputStream(header)), segment.toString(), KIND,
          VERSION, VERSION);
    } catch (FileFormatException e) {
      String why = e.getMessage().substring(segment.toString().length() + 2);
      WalDamage.Cause cause = e.problem() == FileFormatException.Problem.TOO_NEW
          ? WalDamage.Cause.NEWER_FORMAT : WalDamage.Cause.BAD_HEADER;
      return headerDamage(ch, segment, size, cause, why);
    }
    return scanFrames(ch, segment, size, VERSION, headerLength);
  }

  private static WalSegmentScan headerDamage(FileChannel ch, Path segment, long size, WalDamage.Cause cause,
      String why) throws IOException {
    long next = WalFrameCursor.findValidFrame(ch, size, 1, WalFrameLayout.CURRENT);
    return new WalSegmentScan(segment, size, VERSION, 0, 0, 0, new WalDamage(0, cause, why, next));
  }

  private static WalSegmentScan scanFrames(FileChannel ch, Path segment, long size, int version, long dataStart)
      throws IOException {
    WalFrameLayout layout = version == VERSION ? WalFrameLayout.CURRENT : WalFrameLayout.LEGACY;
    WalFrameCursor cursor = new WalFrameCursor(ch, size, layout, dataStart);
    long frames = 0;
    while (cursor.next() != null) {
      frames++;
    }
    long end = cursor.position();
    WalDamage damage = null;
    if (cursor.problem() != null) {
      // A header-less segment may really be a format-2 one whose magic was hit: look for both.
      long next = version == VERSION
          ? WalFrameCursor.findValidFrame(ch, size, end + 1, WalFrameLayout.CURRENT)
          : WalFrameCursor.findValidFrame(ch, size, end + 1, WalFrameLayout.LEGACY, WalFrameLayout.CURRENT);
      damage = new WalDamage(end, WalDamage.Cause.BAD_FRAME, cursor.problem(), next);
    }
    return new WalSegmentScan(segment, size, version, dataStart, frames, end, damage);
  }

  /** Receives the frames of a segment in order. */
  @FunctionalInterface
  public interface FrameConsumer {
    void accept(WalSegmentScan segment, long offset, byte[] payload) throws IOException;
  }

  /**
   * Streams the valid frames of a scanned segment, one payload at a time. Fails if the segment no
   * longer holds what the scan found (nothing else may write it meanwhile).
   */
  static void forEachFrame(WalSegmentScan scan, FrameConsumer consumer) throws IOException {
    WalFrameLayout layout = scan.layout();
    if (layout == null || scan.frames() == 0) {
      return;
    }
    try (FileChannel ch = FileChannel.open(scan.path(), StandardOpenOption.READ)) {
      WalFrameCursor cursor = new WalFrameCursor(ch, scan.goodEnd(), layout, scan.dataStart());
      long frames = 0;
      for (WalFrameCursor.Frame f = cursor.next(); f != null; f = cursor.next()) {
        consumer.accept(scan, f.offset(), f.payload());
        frames++;
      }
      if (frames != scan.frames()) {
        throw new IOException(scan.path() + " changed while it was replayed (" + cursor.problem() + " at byte "
            + cursor.position() + ")");
      }
    }
  }

  private static byte[] read(FileChannel ch, long pos, int length) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(length);
    int n = WalFrameCursor.readFully(ch, b, pos);
    return Arrays.copyOf(b.array(), n);
  }
}
