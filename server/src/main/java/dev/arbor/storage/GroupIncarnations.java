package dev.arbor.storage;

import dev.arbor.property.GroupIncarnation;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * What the node's metadata says about a group, as storage needs it: whether it exists and which
 * incarnation it is. Data of another incarnation belongs to a deleted group of the same name.
 */
public interface GroupIncarnations {
  boolean exists(String group);

  /** The group's incarnation; empty when the group does not exist or metadata has none yet (older metadata). */
  Optional<GroupIncarnation> incarnation(String group);

  /** Groups known only by existence (tests, tools): no incarnation is ever checked or written. */
  static GroupIncarnations withoutIncarnations(Predicate<String> exists) {
    return new GroupIncarnations() {
      @Override
      public boolean exists(String group) {
        return exists.test(group);
      }

      @Override
      public Optional<GroupIncarnation> incarnation(String group) {
        return Optional.empty();
      }
    };
  }
}
