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

  /**
   * A tombstone of this version at the same revision. Only for fixtures and for data written
   * before deletes took a fresh revision: a delete must use {@link #tombstoneAt}, or it can lose
   * to a version acknowledged by a replica it did not read.
   */
  public PropertyRecord tombstone(long deleteTimeNanos) {
    return tombstoneAt(modRevision, deleteTimeNanos, false);
  }

  /**
   * The delete of this version as a new write: same bytes, a revision strictly above this one
   * (so it beats this version and anything it superseded) and a delete time. Callers pass the
   * same clock value for both, which also keeps two deletes of one version apart in the content
   * hash.
   */
  public PropertyRecord tombstoneAt(long revision, long deleteTimeNanos) {
    return tombstoneAt(revision, deleteTimeNanos, true);
  }

  private PropertyRecord tombstoneAt(long revision, long deleteTimeNanos, boolean fresh) {
    if (deleteTimeNanos <= 0) {
      throw new IllegalArgumentException("delete time must be > 0");
    }
    if (fresh && revision <= modRevision) {
      throw new IllegalArgumentException(
          "tombstone revision " + revision + " must be above the deleted version's " + modRevision);
    }
    return new PropertyRecord(
        key, revision, createRevision, deleteTimeNanos, source, ContentHash.of(source, deleteTimeNanos));
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
