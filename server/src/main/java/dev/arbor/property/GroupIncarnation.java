package dev.arbor.property;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Which life of a group some data belongs to: 128 random bits made when the group is created.
 * A group deleted and re-created under the same name gets a new one, so a node that missed the
 * delete can still tell the old group's data from the new group's. Only ever compared for
 * equality.
 */
public record GroupIncarnation(long high, long low) {
  public static final int BYTES = 16;

  /** A fresh incarnation (a new group). */
  public static GroupIncarnation random() {
    byte[] b = new byte[BYTES];
    new SecureRandom().nextBytes(b);
    return fromBytes(b);
  }

  public static GroupIncarnation fromBytes(byte[] b) {
    if (b.length != BYTES) {
      throw new IllegalArgumentException("a group incarnation has " + BYTES + " bytes, got " + b.length);
    }
    long hi = 0;
    long lo = 0;
    for (int i = 0; i < 8; i++) {
      hi = (hi << 8) | (b[i] & 0xff);
      lo = (lo << 8) | (b[i + 8] & 0xff);
    }
    return new GroupIncarnation(hi, lo);
  }

  /** Empty for no bytes (a sender or a store that predates incarnations), else as {@link #fromBytes}. */
  public static Optional<GroupIncarnation> ofOptionalBytes(byte[] b) {
    return b.length == 0 ? Optional.empty() : Optional.of(fromBytes(b));
  }

  public byte[] toBytes() {
    byte[] b = new byte[BYTES];
    for (int i = 0; i < 8; i++) {
      b[i] = (byte) (high >>> (56 - 8 * i));
      b[i + 8] = (byte) (low >>> (56 - 8 * i));
    }
    return b;
  }

  @Override
  public String toString() {
    return HexFormat.of().formatHex(toBytes());
  }
}
