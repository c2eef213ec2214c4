package dev.arbor.cluster;

/** Sizes the liaison and the data nodes agree on for the internal API (cluster.proto). */
public final class InternalApiLimits {
  /** The largest reply a liaison accepts from a data node. */
  public static final int MAX_MESSAGE_BYTES = 64 << 20;
  /** Keys in one Read; a liaison splits larger reads, a node refuses more (INVALID_ARGUMENT). */
  public static final int MAX_READ_KEYS = 10_000;

  private InternalApiLimits() {}
}
