package dev.arbor.metadata;

import java.util.Objects;

/**
 * A change of the registered nodes: a node joined (registered), changed its registration, or left
 * (its registration was revoked or its lease expired).
 */
public record NodeEvent(Type type, RegisteredNode node) {
  public enum Type {
    JOINED,
    UPDATED,
    LEFT
  }

  public NodeEvent {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(node, "node");
  }
}
