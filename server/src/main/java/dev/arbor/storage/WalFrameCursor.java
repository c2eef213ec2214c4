package dev.arbor.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Reads the frames of one segment in order, one payload at a time (memory is bounded by the
 * largest frame, not the segment), stopping at the first bad frame.
 */
final class WalFrameCursor {
  /** A valid frame and the byte of the segment it starts at. */
  record Frame(long offset, byte[] payload) {}

  private final FileChannel channel;
  private final long size;
  private final WalFrameLayout layout;
  private final ByteBuffer header = ByteBuffer.allocate(WalFrameLayout.FRAME_HEADER);
  private long position;
  private String problem;

  WalFrameCursor(FileChannel channel, long size, WalFrameLayout layout, long start) {
    this.channel = channel;
    this.size = size;
    this.layout = layout;
    this.position = start;
  }

  /** The next valid frame, or null at the end of the file or at a bad frame ({@link #problem()}). */
  Frame next() throws IOException {
    if (problem != null || position >= size) {
      return null;
    }
    long left = size - position;
    if (left < WalFrameLayout.FRAME_HEADER) {
      return stop("incomplete frame header (" + left + " of " + WalFrameLayout.FRAME_HEADER + " bytes)");
    }
    header.clear();
    readFully(channel, header, position);
    int length = layout.length(header, 0);
    if (!WalFrameLayout.plausibleLength(length)) {
      return stop("invalid frame length " + length);
    }
    long payloadLeft = left - WalFrameLayout.FRAME_HEADER;
    if (length > payloadLeft) {
      return stop("incomplete frame (" + length + "-byte payload, " + payloadLeft + " bytes left)");
    }
    byte[] payload = new byte[length];
    readFully(channel, ByteBuffer.wrap(payload), position + WalFrameLayout.FRAME_HEADER);
    if (layout.crc(length, payload, 0, length) != layout.storedCrc(header, 0)) {
      return stop("frame checksum mismatch");
    }
    Frame f = new Frame(position, payload);
    position += WalFrameLayout.FRAME_HEADER + length;
    return f;
  }

  /** Byte after the last frame returned (where the damage is, once {@link #problem()} is set). */
  long position() {
    return position;
  }

  /** Why reading stopped before the end of the file, or null. */
  String problem() {
    return problem;
  }

  private Frame stop(String why) {
    problem = why;
    return null;
  }

  /**
   * Byte of the first valid, non-empty frame in any of {@code layouts} starting at or after
   * {@code from}, or -1. Tells a torn final append (nothing valid after it) from damage inside the
   * log. Empty frames do not count: a run of zeros must not look like data.
   */
  static long findValidFrame(FileChannel channel, long size, long from, WalFrameLayout... layouts)
      throws IOException {
    int h = WalFrameLayout.FRAME_HEADER;
    ByteBuffer window = ByteBuffer.allocate((int) Math.max(h, Math.min(1 << 20, size - from)));
    long windowStart = 0;
    int windowLength = 0;
    for (long q = from; q + h <= size; q++) {
      if (q + h > windowStart + windowLength) {
        window.clear();
        windowLength = readFully(channel, window, q);
        windowStart = q;
      }
      int at = (int) (q - windowStart);
      for (WalFrameLayout layout : layouts) {
        int length = layout.length(window, at);
        if (length <= 0 || length > WalFrameLayout.MAX_FRAME || length > size - q - h) {
          continue;
        }
        int crc;
        if (at + h + length <= windowLength) {
          crc = layout.crc(length, window.array(), at + h, length);
        } else {
          byte[] payload = new byte[length];
          readFully(channel, ByteBuffer.wrap(payload), q + h);
          crc = layout.crc(length, payload, 0, length);
        }
        if (crc == layout.storedCrc(window, at)) {
          return q;
        }
      }
    }
    return -1;
  }

  static int readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
    int total = 0;
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos + total);
      if (n < 0) {
        break;
      }
      total += n;
    }
    return total;
  }
}
