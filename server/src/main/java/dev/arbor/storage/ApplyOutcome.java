package dev.arbor.storage;

/** What {@link PropertyStore#applyEach} did with one incoming record. */
public enum ApplyOutcome {
  /** It beat the local copy (or there was none) and is now the key's latest version. */
  STORED,
  /** Not stored: the store already holds exactly this version. */
  NOT_STORED_EQUAL,
  /**
   * Not stored: the store holds (or the same batch carried) a different version that is equal or
   * newer by last-write-wins, so this one would lose to it.
   */
  NOT_STORED_NEWER,
  /**
   * Not stored: the record claims another incarnation of its group than the one this store holds
   * (data of a deleted group that had the same name, or of a group this node has not caught up with).
   */
  WRONG_INCARNATION
}
