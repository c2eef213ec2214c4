package dev.arbor.transport;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which internal methods a member may call, by the roles it registered with: a liaison needs the
 * data-node reads and writes, not the repair session or gossip, so a liaison's key cannot be used
 * to push records through repair or forge a round. A member may call a method when any of its
 * roles grants it.
 *
 * @param methodsByRole per role, the full method names ({@code package.Service/Method}) it may
 *     call, or {@link #ALL} for every method of the listener
 */
public record MemberAccess(Map<String, Set<String>> methodsByRole) {
  /** Grants every method of the listener. */
  public static final String ALL = "*";

  public MemberAccess {
    Map<String, Set<String>> copy = new TreeMap<>();
    methodsByRole.forEach((role, methods) -> copy.put(role, Set.copyOf(methods)));
    methodsByRole = Map.copyOf(copy);
  }

  /** Whether a member of {@code roles} may call {@code fullMethodName}. */
  public boolean allows(Set<String> roles, String fullMethodName) {
    for (String role : roles) {
      Set<String> methods = methodsByRole.get(role);
      if (methods != null && (methods.contains(ALL) || methods.contains(fullMethodName))) {
        return true;
      }
    }
    return false;
  }

  /** The roles that may call {@code fullMethodName}, sorted (for a refusal's description). */
  public Set<String> rolesAllowed(String fullMethodName) {
    Set<String> roles = new TreeSet<>();
    methodsByRole.forEach((role, methods) -> {
      if (methods.contains(ALL) || methods.contains(fullMethodName)) {
        roles.add(role);
      }
    });
    return roles;
  }
}
