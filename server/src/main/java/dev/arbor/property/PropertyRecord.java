package dev.arbor.property;

import java.util.Arrays;

/**
 * The stored state of one property key on a replica: its latest version, or that version's
 * tombstone. {@code source} is the canonical encoding of the property (deterministic protobuf of
 * {@code banyandb.property.v1.Property} with metadata revisions and tags in stored order); it is
 * never re-encoded, so every replica hashes exactly the bytes the writer produced.
 *
 * @param key the entity
 * @param modRevision the version (ns, hybrid clock)
 * @param createRevision revision of the first live version of this key
 * @param deleteTime 0 when live; otherwise the tombstone time (ns)
 * @param source canonical property bytes
 * @param sha {@link ContentHash} of source and deleteTime (64 bytes)
 */
public record PropertyRecord(
    EntityKey key, long modRevision, long createRevision, long deleteTime, byte[] source, byte[] sha) {

  public static PropertyRecord live(EntityKey key, long modRevision, long createRevision, byte[] source) {
    return new PropertyRecord(key, modRevision, createRevision, 0L, source, ContentHash.of(source, 0L));
  }

  public boolean deleted() {
    return deleteTime != 0L;
  }

  /** The tombstone of this version: same bytes and revision, a delete time. */
  public PropertyRecord tombstone(long deleteTimeNanos) {
    if (deleteTimeNanos <= 0) {
      throw new IllegalArgumentException("delete time must be > 0");
    }
    return new PropertyRecord(
        key, modRevision, createRevision, deleteTimeNanos, source, ContentHash.of(source, deleteTimeNanos));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PropertyRecord r
        && key.equals(r.key)
        && modRevision == r.modRevision
        && createRevision == r.createRevision
        && deleteTime == r.deleteTime
        && Arrays.equals(source, r.source)
        && Arrays.equals(sha, r.sha);
  }

  @Override
  public int hashCode() {
    return key.hashCode() * 31 + Long.hashCode(modRevision);
  }

  @Override
  public String toString() {
    return key + "@" + modRevision + (deleted() ? " deleted@" + deleteTime : "");
  }
}
