package dev.arbor.metadata;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A node's registration in etcd ({@code nodes/<id>}, JSON): its id (stable across restarts), the
 * address of its internal gRPC endpoint, its roles (e.g. {@code data}, {@code liaison}) and free
 * labels. Roles and labels are kept sorted so equal registrations compare and encode equally.
 */
public record RegisteredNode(
    String id, String grpcAddress, Set<String> roles, Map<String, String> labels) {

  public RegisteredNode {
    Objects.requireNonNull(id, "id");
    if (id.isBlank() || id.indexOf('/') >= 0 || !id.strip().equals(id)) {
      throw new IllegalArgumentException(
          "node id must be non-empty, without '/' or surrounding whitespace: '" + id + "'");
    }
    Objects.requireNonNull(grpcAddress, "grpcAddress");
    if (grpcAddress.isBlank()) {
      throw new IllegalArgumentException("node " + id + " has an empty gRPC address");
    }
    roles = Collections.unmodifiableSortedSet(new TreeSet<>(roles == null ? Set.of() : roles));
    labels = Collections.unmodifiableSortedMap(new TreeMap<>(labels == null ? Map.of() : labels));
  }

  public static RegisteredNode of(String id, String grpcAddress, Set<String> roles) {
    return new RegisteredNode(id, grpcAddress, roles, Map.of());
  }

  public boolean hasRole(String role) {
    return roles.contains(role);
  }
}
