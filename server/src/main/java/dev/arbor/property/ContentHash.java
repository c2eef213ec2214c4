package dev.arbor.property;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The leaf hash of a property version: SHA-512 over the canonical property bytes followed by the
 * delete time as 8 bytes big-endian (0 for a live version). Binary, 64 bytes; rendered as hex only
 * for humans. Unlike upstream (which hashes encoder-dependent JSON), equal data always hashes
 * equal on every node.
 */
public final class ContentHash {
  public static final int LENGTH = 64;
  private static final ThreadLocal<MessageDigest> SHA512 =
      ThreadLocal.withInitial(ContentHash::newDigest);

  private ContentHash() {}

  public static byte[] of(byte[] canonicalSource, long deleteTime) {
    MessageDigest md = SHA512.get();
    md.reset();
    md.update(canonicalSource);
    for (int shift = 56; shift >= 0; shift -= 8) {
      md.update((byte) (deleteTime >>> shift));
    }
    return md.digest();
  }

  private static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-512");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-512 is required by the Java platform", e);
    }
  }
}
