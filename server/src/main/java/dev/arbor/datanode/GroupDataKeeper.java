package dev.arbor.datanode;

import dev.arbor.metadata.MetadataEvent;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.storage.PropertyStore;
import java.io.IOException;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a data node's group data in line with metadata events, deleting only what was deleted:
 * an observed delete of the incarnation the node holds drops the data; any other disappearance
 * (a group that vanished in a re-list, another incarnation in metadata) quarantines it. While
 * metadata is not trusted ({@code distrust} names why, e.g. etcd went back in time) even an
 * observed delete only quarantines.
 */
public final class GroupDataKeeper {
  private static final Logger LOG = LoggerFactory.getLogger(GroupDataKeeper.class);

  private final PropertyStore store;
  private final Supplier<Optional<String>> distrust;

  public GroupDataKeeper(PropertyStore store, Supplier<Optional<String>> distrust) {
    this.store = store;
    this.distrust = distrust;
  }

  /** Applies a group event to the group's data (non-group events are ignored). */
  public void onEvent(MetadataEvent e) {
    if (!e.type().isGroupEvent()) {
      return;
    }
    Optional<GroupIncarnation> deleted = e.observedDeleteOf();
    if (deleted.isPresent()) {
      Optional<String> why = distrust.get();
      if (why.isPresent()) {
        LOG.error("group {} deleted in metadata, but metadata is not trusted ({}): its data is quarantined, not"
            + " dropped", e.groupName(), why.get());
      } else {
        try {
          if (store.dropDeleted(e.groupName(), deleted.get())) {
            return;
          }
        } catch (IOException | RuntimeException ex) {
          LOG.error("dropping the data of deleted group {} failed; it is quarantined on next start", e.groupName(), ex);
          return;
        }
      }
    }
    reconcile(e.groupName());
  }

  /** Quarantines the group's data if metadata does not account for it. */
  public void reconcile(String group) {
    try {
      store.reconcile(group);
    } catch (IOException | RuntimeException ex) {
      LOG.error("quarantining the data of group {}, which metadata does not account for, failed; retried on next"
          + " start", group, ex);
    }
  }
}
