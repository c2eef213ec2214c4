package dev.arbor.storage;

import dev.arbor.property.GroupIncarnation;
import java.io.IOException;
import java.time.Instant;
import java.util.Optional;

/** Opens the package-private {@link Quarantine#admit} to tests in other packages (fuzz). */
public final class QuarantineHooks {
  private QuarantineHooks() {}

  public static QuarantineEntry admit(Quarantine q, String group, GroupIncarnation incarnation, Instant at)
      throws IOException {
    return q.admit(group, Optional.of(incarnation), "fuzz", at);
  }
}
