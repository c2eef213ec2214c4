package dev.arbor.repair.tree;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** One leaf: an entity ({@code group/name/id}, UTF-8) and the hash of its latest version. */
public record TreeLeaf(byte[] entityUtf8, byte[] sha) {
  public String entity() {
    return new String(entityUtf8, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TreeLeaf l && Arrays.equals(entityUtf8, l.entityUtf8) && Arrays.equals(sha, l.sha);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(entityUtf8) * 31 + Arrays.hashCode(sha);
  }

  @Override
  public String toString() {
    return entity() + "=" + TreeHasher.hex(sha).substring(0, 16);
  }
}
