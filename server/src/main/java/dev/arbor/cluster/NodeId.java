package dev.arbor.cluster;

import java.util.Objects;

/**
 * The identity of a data node as registered in metadata (upstream uses {@code host:port}). It is
 * what placement hashes, so it must stay the same across restarts of the node.
 */
public record NodeId(String value) implements Comparable<NodeId> {
  public NodeId {
    Objects.requireNonNull(value, "node id");
    if (value.isBlank() || !value.strip().equals(value)) {
      throw new IllegalArgumentException(
          "node id must be non-empty without surrounding whitespace: '" + value + "'");
    }
  }

  public static NodeId of(String value) {
    return new NodeId(value);
  }

  /** Natural {@link String} order of the id; the tie-break of placement. */
  @Override
  public int compareTo(NodeId other) {
    return value.compareTo(other.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
