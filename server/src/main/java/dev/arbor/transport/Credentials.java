package dev.arbor.transport;

import java.util.Objects;

/** A user name and password a client sends; {@link #toString} never shows the password. */
public record Credentials(String username, String password) {
  public Credentials {
    Objects.requireNonNull(username, "username");
    Objects.requireNonNull(password, "password");
  }

  @Override
  public String toString() {
    return "Credentials[" + username + ", ***]";
  }
}
