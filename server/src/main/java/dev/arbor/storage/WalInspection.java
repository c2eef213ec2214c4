package dev.arbor.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * A read-only look at a data directory's write-ahead log and what recovery would make of it
 * (safe while a server runs; its current segment may then show an append in progress).
 */
public record WalInspection(Path dataDir, List<WalSegmentScan> segments) {
  public WalInspection {
    segments = List.copyOf(segments);
  }

  /** Scans {@code dataDir/wal}; changes nothing. */
  public static WalInspection of(Path dataDir) throws IOException {
    Path walDir = dataDir.resolve("wal");
    if (!Files.isDirectory(walDir)) {
      throw new NoSuchFileException(walDir + " (no write-ahead log in " + dataDir + ")");
    }
    return new WalInspection(dataDir, WalSegments.scanAll(walDir));
  }

  /** Why a node would refuse to start on this log (one line), or null when it would start. */
  public String refusal() {
    for (int i = 0; i < segments.size(); i++) {
      WalSegmentScan s = segments.get(i);
      boolean last = i == segments.size() - 1;
      if (!s.intact() && !WalRecovery.isTornTail(s, last)) {
        return WalRecovery.refusal(s, last, dataDir.toAbsolutePath());
      }
    }
    return null;
  }

  /** The last segment when recovery would cut a torn tail off it, else null. */
  public WalSegmentScan tornTail() {
    if (segments.isEmpty()) {
      return null;
    }
    WalSegmentScan last = segments.get(segments.size() - 1);
    return WalRecovery.isTornTail(last, true) ? last : null;
  }
}
