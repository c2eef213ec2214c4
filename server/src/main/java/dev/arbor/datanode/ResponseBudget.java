package dev.arbor.datanode;

import dev.arbor.cluster.InternalApiLimits;

/**
 * The most properties one Read or QueryShards reply carries, in encoded bytes
 * ({@code --max-response-bytes}): a node stops there and says where to go on, instead of building
 * a reply as large as the request asks for. One property larger than the budget is still sent
 * (alone), so a caller always makes progress.
 */
public record ResponseBudget(int maxBytes) {
  public static final int DEFAULT_MAX_BYTES = 16 << 20;
  /** Half of what a liaison accepts: a reply may pass the budget by one property. */
  public static final int CEILING = InternalApiLimits.MAX_MESSAGE_BYTES / 2;
  public static final ResponseBudget DEFAULT = new ResponseBudget(DEFAULT_MAX_BYTES);

  public ResponseBudget {
    if (maxBytes < 1 || maxBytes > CEILING) {
      throw new IllegalArgumentException("--max-response-bytes must be between 1 and " + CEILING + ", got " + maxBytes);
    }
  }

  /** An empty reply to fill. */
  Fill fill() {
    return new Fill(maxBytes);
  }

  /** One reply's running size; not thread-safe (one per call). */
  static final class Fill {
    private final int maxBytes;
    private long bytes;

    private Fill(int maxBytes) {
      this.maxBytes = maxBytes;
    }

    /** Counts a part of {@code size} bytes when it fits, or when the reply is still empty. */
    boolean take(int size) {
      if (bytes > 0 && bytes + size > maxBytes) {
        return false;
      }
      bytes += size;
      return true;
    }
  }
}
