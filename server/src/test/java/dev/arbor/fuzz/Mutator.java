package dev.arbor.fuzz;

import java.util.Arrays;
import java.util.Random;

/**
 * A small seeded mutator: bit flips, byte sets, insertions, deletions, truncation, splicing from a
 * donor, and boundary integers written over the bytes; plus odd strings and numbers for structured
 * (field-level) mutation. Deterministic for a given {@link Random}.
 */
final class Mutator {
  static final long[] BOUNDARY_LONGS = {
    0, 1, -1, 2, 127, 128, 255, 256, 0x7fff, 0x8000, 0xffff, 0x10000, Integer.MAX_VALUE, Integer.MIN_VALUE,
    0xffffffffL, 1L << 32, Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE - 1, Long.MIN_VALUE + 1, 4096, 1 << 20,
    64 << 20, 253_402_300_799L, -62_135_596_800L, 1_000_000_000L
  };

  private static final String[] ODD_STRINGS = {
    "", " ", ".", "..", "/", "../x", "a/b", "x/../../etc", "\0", "a\0b", "\\", "%2e%2e", "\u00e9", "\u4e2d",
    "\uD83D\uDE00", "\uD800", "\uFFFF", "\r\n", "*", "?", "-", "_", "CON", "a".repeat(255), "a".repeat(256),
    "b".repeat(4097), "c".repeat(70_000), "..\\..", "~", "$", "'\"", "{}", "\t"
  };

  private final Random rnd;

  Mutator(Random rnd) {
    this.rnd = rnd;
  }

  Random random() {
    return rnd;
  }

  /** 1–4 stacked byte-level mutations of {@code in} (a copy); {@code donor} feeds splices. */
  byte[] mutate(byte[] in, byte[] donor) {
    byte[] b = in;
    int n = 1 + rnd.nextInt(4);
    for (int i = 0; i < n; i++) {
      b = mutateOnce(b, donor);
    }
    return b == in ? in.clone() : b;
  }

  private byte[] mutateOnce(byte[] b, byte[] donor) {
    int len = b.length;
    switch (rnd.nextInt(9)) {
      case 0: { // bit flip
        if (len == 0) {
          return new byte[] {(byte) rnd.nextInt()};
        }
        byte[] c = b.clone();
        int at = rnd.nextInt(len);
        c[at] ^= (byte) (1 << rnd.nextInt(8));
        return c;
      }
      case 1: { // random byte, or 0x00 / 0xff
        if (len == 0) {
          return b;
        }
        byte[] c = b.clone();
        int v = rnd.nextInt(3);
        c[rnd.nextInt(len)] = (byte) (v == 0 ? 0 : v == 1 ? 0xff : rnd.nextInt());
        return c;
      }
      case 2: { // insert bytes
        int at = rnd.nextInt(len + 1);
        byte[] ins = new byte[1 + rnd.nextInt(rnd.nextInt(8) == 0 ? 200 : 8)];
        rnd.nextBytes(ins);
        return splice(b, at, at, ins);
      }
      case 3: { // delete a range
        if (len == 0) {
          return b;
        }
        int at = rnd.nextInt(len);
        int n = 1 + rnd.nextInt(Math.min(len - at, rnd.nextBoolean() ? 4 : 64));
        return splice(b, at, at + n, new byte[0]);
      }
      case 4: // truncate
        return Arrays.copyOf(b, len == 0 ? 0 : rnd.nextInt(len));
      case 5: { // splice a piece of the donor (or of itself) in, replacing or inserting
        byte[] src = donor != null && donor.length > 0 && rnd.nextBoolean() ? donor : b;
        if (src.length == 0) {
          return b;
        }
        int from = rnd.nextInt(src.length);
        int n = 1 + rnd.nextInt(Math.min(src.length - from, 128));
        byte[] piece = Arrays.copyOfRange(src, from, from + n);
        int at = rnd.nextInt(len + 1);
        int end = rnd.nextBoolean() ? at : Math.min(len, at + n);
        return splice(b, at, end, piece);
      }
      case 6: { // a boundary integer (1, 2, 4 or 8 bytes, big- or little-endian) over the bytes
        if (len == 0) {
          return b;
        }
        int width = 1 << rnd.nextInt(4);
        long v = boundaryLong();
        byte[] c = b.clone();
        int at = rnd.nextInt(len);
        boolean big = rnd.nextBoolean();
        for (int i = 0; i < width && at + i < len; i++) {
          int shift = big ? 8 * (width - 1 - i) : 8 * i;
          c[at + i] = (byte) (v >>> shift);
        }
        return c;
      }
      case 7: { // duplicate a range in place
        if (len == 0) {
          return b;
        }
        int at = rnd.nextInt(len);
        int n = 1 + rnd.nextInt(Math.min(len - at, 64));
        return splice(b, at, at, Arrays.copyOfRange(b, at, at + n));
      }
      default: { // append garbage
        byte[] tail = new byte[1 + rnd.nextInt(32)];
        rnd.nextBytes(tail);
        return splice(b, len, len, tail);
      }
    }
  }

  static byte[] splice(byte[] b, int from, int to, byte[] piece) {
    byte[] c = new byte[b.length - (to - from) + piece.length];
    System.arraycopy(b, 0, c, 0, from);
    System.arraycopy(piece, 0, c, from, piece.length);
    System.arraycopy(b, to, c, from + piece.length, b.length - to);
    return c;
  }

  long boundaryLong() {
    long v = BOUNDARY_LONGS[rnd.nextInt(BOUNDARY_LONGS.length)];
    return rnd.nextInt(4) == 0 ? -v : v;
  }

  int boundaryInt() {
    return (int) boundaryLong();
  }

  /** An odd string: a known trouble-maker, a random short one, or {@code normal} itself. */
  String string(String normal) {
    int pick = rnd.nextInt(10);
    if (pick < 5) {
      return ODD_STRINGS[rnd.nextInt(ODD_STRINGS.length)];
    }
    if (pick < 8) {
      StringBuilder s = new StringBuilder();
      int n = 1 + rnd.nextInt(12);
      for (int i = 0; i < n; i++) {
        s.append((char) (rnd.nextInt(6) == 0 ? rnd.nextInt(0x10000) : 32 + rnd.nextInt(95)));
      }
      return s.toString();
    }
    return normal + ODD_STRINGS[rnd.nextInt(ODD_STRINGS.length)];
  }

  boolean chance(int oneIn) {
    return rnd.nextInt(oneIn) == 0;
  }

  <T> T pick(T[] options) {
    return options[rnd.nextInt(options.length)];
  }
}
