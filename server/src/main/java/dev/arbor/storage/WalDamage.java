package dev.arbor.storage;

/**
 * The first thing wrong in a WAL segment.
 *
 * @param offset byte of the segment where it starts
 * @param cause what kind of damage
 * @param reason what was found, for people
 * @param nextValidFrame byte of the first valid frame after the damage, or -1 when none follows
 */
public record WalDamage(long offset, Cause cause, String reason, long nextValidFrame) {
  /** What kind of damage. */
  public enum Cause {
    /** The file ends inside its header: a crash right after the segment was created. */
    TORN_HEADER,
    /** A complete header that is wrong (checksum, kind), or a header-less segment after one with a header. */
    BAD_HEADER,
    /** Written by a newer build: not damage, but unreadable here. */
    NEWER_FORMAT,
    /** A frame that is incomplete, has an impossible length or fails its checksum. */
    BAD_FRAME
  }

  /** Whether valid frames follow the damage (so it cannot be an interrupted final append). */
  public boolean validFramesFollow() {
    return nextValidFrame >= 0;
  }
}
