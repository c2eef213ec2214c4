package dev.arbor.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides what recovery may do with damaged segments. Only the end of the last segment can hold
 * an interrupted append, which was never acknowledged (its writer was still waiting for the
 * fsync): that torn tail is cut off. Any other damage — in a segment before the last, or with
 * valid frames after it — sits where acknowledged writes were, so the node refuses to start
 * rather than silently drop them, and says how to salvage.
 */
final class WalRecovery {
  private static final Logger LOG = LoggerFactory.getLogger(WalRecovery.class);

  private WalRecovery() {}

  /**
   * Scans the segments, cuts a torn tail off the last one, and returns what is left to replay;
   * throws a {@link StorageException} naming the segment, byte and recovery command for any
   * other damage, having changed nothing.
   */
  static List<WalSegmentScan> recover(Path walDir) throws IOException {
    WalInspection found = new WalInspection(walDir.toAbsolutePath().getParent(), WalSegments.scanAll(walDir));
    String refusal = found.refusal();
    if (refusal != null) {
      throw new StorageException(refusal);
    }
    List<WalSegmentScan> scans = new ArrayList<>(found.segments());
    WalSegmentScan torn = found.tornTail();
    if (torn != null) {
      LOG.warn("write-ahead log {}: torn tail at byte {} of {} ({}; an unacknowledged write); truncating",
          torn.path(), torn.goodEnd(), torn.size(), torn.damage().reason());
      try (FileChannel ch = FileChannel.open(torn.path(), StandardOpenOption.WRITE)) {
        ch.truncate(torn.goodEnd());
        ch.force(true);
      }
      scans.set(scans.size() - 1, torn.trimmed());
    }
    return scans;
  }

  /** Whether recovery cuts this damage off: an interrupted final append of the last segment. */
  static boolean isTornTail(WalSegmentScan s, boolean last) {
    WalDamage d = s.damage();
    return d != null && last && !d.validFramesFollow()
        && (d.cause() == WalDamage.Cause.BAD_FRAME || d.cause() == WalDamage.Cause.TORN_HEADER);
  }

  /** Why the node does not start with this segment, as one line. */
  static String refusal(WalSegmentScan s, boolean last, Path dataDir) {
    WalDamage d = s.damage();
    if (d.cause() == WalDamage.Cause.NEWER_FORMAT) {
      return s.path() + ": " + d.reason();
    }
    String where = d.validFramesFollow()
        ? "; valid frames follow at byte " + d.nextValidFrame()
        : last ? "" : "; it is not the last segment";
    return "write-ahead log segment " + s.path() + " is damaged at byte " + d.offset() + " of " + s.size()
        + " (" + d.reason() + where + "): acknowledged writes may be lost, so the node does not start."
        + " Inspect with `arbor wal inspect --data-dir " + dataDir + "`; `arbor wal salvage --data-dir "
        + dataDir + "` keeps every frame before the damage and moves the original segment to wal/salvaged-<time>/";
  }
}
