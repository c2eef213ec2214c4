package dev.arbor.storage;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * How a frame of a WAL segment is laid out: {@code u32 length ‖ u32 crc ‖ payload}.
 *
 * <p>{@link #CURRENT} (segment format 2) is big-endian and its CRC32C covers the length field too,
 * so a corrupt length or a zero-filled region (which a crash can leave at the end of a file) never
 * reads as a valid frame. {@link #LEGACY} is the header-less format 1: little-endian, CRC32C of
 * the payload only; it is only read, to replay segments an older build left behind.
 */
enum WalFrameLayout {
  LEGACY(ByteOrder.LITTLE_ENDIAN, false),
  CURRENT(ByteOrder.BIG_ENDIAN, true);

  static final int FRAME_HEADER = 8;
  /** Frames larger than this are treated as corruption. */
  static final int MAX_FRAME = 256 << 20;

  private final ByteOrder order;
  private final boolean crcCoversLength;

  WalFrameLayout(ByteOrder order, boolean crcCoversLength) {
    this.order = order;
    this.crcCoversLength = crcCoversLength;
  }

  /** The whole frame of {@code payload}, ready to append. */
  ByteBuffer encode(byte[] payload) {
    ByteBuffer frame = ByteBuffer.allocate(FRAME_HEADER + payload.length).order(order);
    frame.putInt(payload.length).putInt(crc(payload.length, payload, 0, payload.length)).put(payload).flip();
    return frame;
  }

  /** The length field of a frame header at {@code at} of {@code header}. */
  int length(ByteBuffer header, int at) {
    return header.order(order).getInt(at);
  }

  int storedCrc(ByteBuffer header, int at) {
    return header.order(order).getInt(at + 4);
  }

  int crc(int length, byte[] payload, int offset, int count) {
    CRC32C crc = new CRC32C();
    if (crcCoversLength) {
      crc.update(ByteBuffer.allocate(4).order(order).putInt(length).array());
    }
    crc.update(payload, offset, count);
    return (int) crc.getValue();
  }

  /** Whether a frame's length field is one a writer could have produced. */
  static boolean plausibleLength(int length) {
    return length >= 0 && length <= MAX_FRAME;
  }
}
