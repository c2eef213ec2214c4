package dev.arbor.transport;

import java.util.Locale;

/**
 * What an authenticated user may do; each role includes the ones before it. {@code read}: query,
 * get, list; {@code write}: also apply and delete; {@code admin}: also create, change and delete
 * groups and schemas, and run tree and repair administration.
 */
public enum Role {
  READ, WRITE, ADMIN;

  public boolean includes(Role required) {
    return compareTo(required) >= 0;
  }

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@code read}, {@code write} or {@code admin}. */
  public static Role parse(String s) {
    for (Role r : values()) {
      if (r.label().equals(s)) {
        return r;
      }
    }
    throw new IllegalArgumentException("unknown role '" + s + "' (use read, write or admin)");
  }
}
