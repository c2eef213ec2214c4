package dev.arbor.storage;

import dev.arbor.property.GroupIncarnation;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * One group's data set aside instead of deleted: {@code quarantine/<group>-<incarnation>-<time>/}
 * holding {@code data/} (the shard indexes and incarnation file), {@code repair/} (its repair
 * trees, when it had any) and {@link Quarantine#INFO} (what this is and why).
 *
 * @param name the entry's directory name
 * @param group the group the data belongs to
 * @param incarnation the incarnation of the data; empty for data older than incarnations
 * @param at when it was set aside
 * @param reason why, as logged at the time
 * @param dir the entry's directory
 */
public record QuarantineEntry(String name, String group, Optional<GroupIncarnation> incarnation, Instant at,
    String reason, Path dir) {

  /** The entry's incarnation as written in names and listings. */
  public String incarnationText() {
    return incarnation.map(GroupIncarnation::toString).orElse("none");
  }
}
