package dev.arbor.storage;

import dev.arbor.property.GroupIncarnation;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;

/**
 * Decides whether data that claims an incarnation of a group may meet this node's data of the
 * group (an internal write, a repair session). Before refusing, it lets this node catch up: the
 * claim may name a group created a moment ago that the metadata watch has not delivered yet, and
 * the store may still hold the data of the deleted namesake, which it then drops.
 */
public final class IncarnationGate {
  private static final long POLL_MS = 25;

  private final PropertyStore store;
  private final GroupIncarnations metadata;
  private final Duration metadataLag;

  /** @param metadataLag how long to wait for this node's metadata to show a claimed incarnation */
  public IncarnationGate(PropertyStore store, GroupIncarnations metadata, Duration metadataLag) {
    this.store = store;
    this.metadata = metadata;
    this.metadataLag = metadataLag;
  }

  /**
   * The incarnation of this node's data of the group once it is in line with metadata (data of
   * a deleted namesake dropped first); empty when nobody knows one yet.
   */
  public Optional<GroupIncarnation> current(String group) {
    try {
      store.reconcile(group);
    } catch (IOException e) {
      throw new StorageException("dropping the data of an old incarnation of group " + group + " failed: "
          + e.getMessage(), e);
    }
    return store.incarnation(group);
  }

  /**
   * Null when data of incarnation {@code claim} belongs with this node's data of {@code group}
   * (also when the claim is empty: a sender from before incarnations), else why not.
   */
  public String refusal(String group, Optional<GroupIncarnation> claim) {
    if (claim.isEmpty() || claim.equals(store.incarnation(group))) {
      return null;
    }
    long deadline = System.nanoTime() + metadataLag.toNanos();
    while (!claim.equals(metadata.incarnation(group)) && System.nanoTime() < deadline) {
      try {
        Thread.sleep(POLL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    Optional<GroupIncarnation> mine = current(group);
    if (claim.equals(mine)) {
      return null;
    }
    return "group " + group + " is incarnation " + mine.map(GroupIncarnation::toString).orElse("(unknown)")
        + " on this node, not " + claim.get() + ": the group was deleted and re-created, and data of one"
        + " incarnation never goes into the other";
  }
}
