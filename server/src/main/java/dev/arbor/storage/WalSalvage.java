package dev.arbor.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes a damaged write-ahead log startable again, offline: each damaged segment is replaced by
 * its valid frames before the first damage, and the original is kept, byte for byte, in
 * {@code wal/salvaged-<time>/}. Nothing is deleted; the operator decides what the dropped frames
 * were worth. Refuses while anything holds the data directory's lock.
 */
public final class WalSalvage {
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  /**
   * What was done with one damaged segment.
   *
   * @param scan what the segment held
   * @param keptFrames frames left in the segment
   * @param droppedBytes bytes from the damage to the end, now only in the saved original
   * @param original where the original segment was moved, or null when it was left alone
   * @param leftAlone why it was left alone (a newer format), or null
   */
  public record Outcome(WalSegmentScan scan, long keptFrames, long droppedBytes, Path original, String leftAlone) {}

  /** Every damaged segment's outcome; {@code salvageDir} is null when nothing was damaged. */
  public record Report(List<WalSegmentScan> segments, List<Outcome> outcomes, Path salvageDir) {}

  private WalSalvage() {}

  /** Salvages the log of data directory {@code dataDir}; {@code now} names the directory of originals. */
  public static Report salvage(Path dataDir, Instant now) throws IOException {
    Path walDir = dataDir.resolve("wal");
    if (!Files.isDirectory(walDir)) {
      throw new NoSuchFileException(walDir + " (no write-ahead log in " + dataDir + ")");
    }
    try (DataDirLock lock = DataDirLock.acquire(dataDir)) {
      List<WalSegmentScan> segments = WalSegments.scanAll(walDir);
      List<Outcome> outcomes = new ArrayList<>();
      Path salvageDir = null;
      for (WalSegmentScan s : segments) {
        if (s.intact()) {
          continue;
        }
        if (s.damage().cause() == WalDamage.Cause.NEWER_FORMAT) {
          outcomes.add(new Outcome(s, 0, 0, null, s.damage().reason()));
          continue;
        }
        if (salvageDir == null) {
          salvageDir = newSalvageDir(walDir, now);
        }
        outcomes.add(salvage(s, salvageDir));
      }
      return new Report(segments, outcomes, salvageDir);
    }
  }

  /**
   * Copies the original aside (durably) before the segment is atomically replaced by its good
   * prefix, so a crash at any point leaves either the original or the salvaged segment in place,
   * and the original saved.
   */
  private static Outcome salvage(WalSegmentScan s, Path salvageDir) throws IOException {
    Path original = salvageDir.resolve(s.path().getFileName());
    Files.copy(s.path(), original, StandardCopyOption.COPY_ATTRIBUTES);
    fsync(original);
    AtomicFileWriter.fsyncDirectory(salvageDir);
    Path tmp = s.path().resolveSibling(s.path().getFileName() + ".salvage.tmp");
    try (FileChannel in = FileChannel.open(s.path(), StandardOpenOption.READ);
        FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      if (s.goodEnd() > 0) {
        long copied = 0;
        while (copied < s.goodEnd()) {
          copied += in.transferTo(copied, s.goodEnd() - copied, out);
        }
      } else if (s.version() == WalSegments.VERSION) {
        // Nothing before the damage, not even a good header: an empty segment of today's format.
        ByteBuffer header = ByteBuffer.wrap(WalSegments.header());
        while (header.hasRemaining()) {
          out.write(header);
        }
      }
      out.force(true);
    }
    Files.move(tmp, s.path(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    AtomicFileWriter.fsyncDirectory(s.path().getParent());
    return new Outcome(s, s.frames(), s.size() - s.goodEnd(), original, null);
  }

  private static Path newSalvageDir(Path walDir, Instant now) throws IOException {
    String base = "salvaged-" + STAMP.format(now);
    Path dir = walDir.resolve(base);
    for (int i = 2; Files.exists(dir); i++) {
      dir = walDir.resolve(base + "-" + i);
    }
    Files.createDirectory(dir);
    AtomicFileWriter.fsyncDirectory(walDir);
    return dir;
  }

  private static void fsync(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
  }
}
