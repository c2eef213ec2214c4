package dev.arbor.storage;

import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.property.Names;
import java.nio.file.Path;

/**
 * The one way a path is derived from a group name: the name must pass {@link Names} and the
 * result, normalised, must be a direct child of the root. Checked again here, below every
 * validator, because a name that escapes its root turns a group delete into a delete of the
 * node's whole data directory.
 */
public final class NamedPaths {
  private NamedPaths() {}

  /** {@code root/name}, refused when {@code name} is not a valid name or would leave {@code root}. */
  public static Path child(Path root, String name) {
    if (!Names.isValidName(name)) {
      throw new InvalidArgumentException("refusing a path for name '" + name + "': "
          + Names.nameProblem(name).orElse("invalid"));
    }
    Path base = root.toAbsolutePath().normalize();
    Path p = base.resolve(name).normalize();
    if (!base.equals(p.getParent())) {
      throw new InvalidArgumentException("refusing a path for name '" + name + "': it leaves " + base);
    }
    return p;
  }
}
