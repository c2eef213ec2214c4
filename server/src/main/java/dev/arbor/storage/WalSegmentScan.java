package dev.arbor.storage;

import java.nio.file.Path;

/**
 * What reading one WAL segment found, without keeping any payload.
 *
 * @param path the segment file
 * @param size its length in bytes
 * @param version segment format: 1 (no header, an older build's), 2 (with header), 0 (empty file)
 * @param dataStart byte where the first frame starts (after the header)
 * @param frames valid frames before any damage
 * @param goodEnd byte after the last valid frame before any damage
 * @param damage the first damage, or null when every byte is a valid frame
 */
public record WalSegmentScan(Path path, long size, int version, long dataStart, long frames, long goodEnd,
    WalDamage damage) {
  public boolean intact() {
    return damage == null;
  }

  /** The segment as it is after cutting it at {@code goodEnd}. */
  WalSegmentScan trimmed() {
    return new WalSegmentScan(path, goodEnd, goodEnd == 0 ? 0 : version, goodEnd == 0 ? 0 : dataStart, frames,
        goodEnd, null);
  }

  /** How its frames are laid out (null for an empty segment). */
  WalFrameLayout layout() {
    return switch (version) {
      case WalSegments.LEGACY_VERSION -> WalFrameLayout.LEGACY;
      case WalSegments.VERSION -> WalFrameLayout.CURRENT;
      default -> null;
    };
  }
}
