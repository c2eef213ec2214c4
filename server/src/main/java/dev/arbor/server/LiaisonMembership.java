package dev.arbor.server;

import dev.arbor.transport.InternalTls;
import java.time.Duration;
import java.util.Objects;

/**
 * How a liaison takes part in the cluster: it registers as {@code nodeId} with role
 * {@code liaison} (data nodes accept internal calls only from registered members), at
 * {@code advertisedHost} and its public port, under a lease of {@code ttl}; its calls to data
 * nodes present the node certificate of {@code tls} (null: plaintext).
 */
public record LiaisonMembership(String nodeId, String advertisedHost, Duration ttl, InternalTls tls) {
  public LiaisonMembership {
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(advertisedHost, "advertisedHost");
    Objects.requireNonNull(ttl, "ttl");
  }
}
