package dev.arbor.storage;

import java.nio.file.Files;
import java.nio.file.Path;

/** The {@code <root>/<group>/shard-<N>} layout shared by the shard indexes and the repair trees. */
public final class ShardDirs {
  private static final String PREFIX = "shard-";

  private ShardDirs() {}

  /** The directory of (group, shard) under {@code root}; the group name is checked to stay under it. */
  public static Path of(Path root, String group, int shard) {
    if (shard < 0) {
      throw new dev.arbor.errors.InvalidArgumentException("shard must be >= 0, got " + shard);
    }
    return NamedPaths.child(root, group).resolve(PREFIX + shard);
  }

  /** The shard id of a {@code shard-<N>} directory, or null for anything else (stray entries). */
  public static Integer shardOf(Path p) {
    String n = p.getFileName().toString();
    if (!n.startsWith(PREFIX) || !Files.isDirectory(p)) {
      return null;
    }
    String digits = n.substring(PREFIX.length());
    if (digits.isEmpty() || digits.length() > 9 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return null;
    }
    int shard = Integer.parseInt(digits);
    // "shard-01" is not a name Arbor writes: opening it as shard 1 would make a second index of it.
    return (PREFIX + shard).equals(n) ? shard : null;
  }
}
