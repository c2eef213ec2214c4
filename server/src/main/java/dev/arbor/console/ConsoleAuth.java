package dev.arbor.console;

import com.sun.net.httpserver.HttpExchange;
import dev.arbor.transport.Role;
import dev.arbor.transport.UserDirectory;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;

/**
 * Who is using the console: HTTP basic-auth credentials checked against the node's users (the
 * same ones as its gRPC port). Without users anyone may do anything, as on the gRPC port.
 */
final class ConsoleAuth {
  static final String CHALLENGE = "Basic realm=\"arbor\", charset=\"UTF-8\"";
  private final UserDirectory users;

  ConsoleAuth(UserDirectory users) {
    this.users = users;
  }

  /** The caller's role; empty when credentials are missing or wrong. */
  Optional<Role> role(HttpExchange ex) {
    if (users == null) {
      return Optional.of(Role.ADMIN);
    }
    String auth = ex.getRequestHeaders().getFirst("Authorization");
    if (auth == null || !auth.regionMatches(true, 0, "Basic ", 0, 6)) {
      users.missingCredentials();
      return Optional.empty();
    }
    String decoded;
    try {
      decoded = new String(Base64.getDecoder().decode(auth.substring(6).trim()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      users.missingCredentials();
      return Optional.empty();
    }
    int colon = decoded.indexOf(':');
    if (colon <= 0) {
      users.missingCredentials();
      return Optional.empty();
    }
    return users.authenticate(decoded.substring(0, colon), decoded.substring(colon + 1));
  }
}
