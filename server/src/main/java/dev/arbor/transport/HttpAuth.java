package dev.arbor.transport;

import com.sun.net.httpserver.BasicAuthenticator;
import java.util.Locale;

/**
 * Which HTTP routes need credentials (HTTP basic auth, checked against the same users as gRPC,
 * any role): {@code none}; {@code protected}: everything but {@code /health} and
 * {@code /api/healthz} — the metrics and trace routes reveal topology; {@code all}: those too.
 * The BanyanDB HTTP API under {@code /api/v1} is not governed by this mode: it always
 * authenticates as the gRPC port does, with the same roles.
 */
public enum HttpAuth {
  NONE, PROTECTED, ALL;

  public static HttpAuth parse(String s) {
    for (HttpAuth a : values()) {
      if (a.name().toLowerCase(Locale.ROOT).equals(s)) {
        return a;
      }
    }
    throw new IllegalArgumentException("unknown --http-auth '" + s + "' (use none, protected or all)");
  }

  /** Whether a route needs credentials in this mode. */
  public boolean protects(String path) {
    return switch (this) {
      case NONE -> false;
      case PROTECTED -> !"/health".equals(path) && !"/api/healthz".equals(path);
      case ALL -> true;
    };
  }

  /** A basic-auth check of {@code users} (realm "arbor"). */
  public static com.sun.net.httpserver.Authenticator authenticator(UserDirectory users) {
    return new BasicAuthenticator("arbor") {
      @Override
      public Result authenticate(com.sun.net.httpserver.HttpExchange exchange) {
        if (!exchange.getRequestHeaders().containsKey("Authorization")) {
          users.missingCredentials();
        }
        return super.authenticate(exchange);
      }

      @Override
      public boolean checkCredentials(String username, String password) {
        return users.authenticate(username, password).isPresent();
      }

    };
  }
}
