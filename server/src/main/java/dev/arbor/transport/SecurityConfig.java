package dev.arbor.transport;

import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Function;

/**
 * What a public listener's security is made of, as configured: TLS files (or none), the users file
 * (or none), which HTTP routes need credentials, and how often the files are checked for changes.
 */
public record SecurityConfig(ServerTls tls, Path authConfigFile, HttpAuth httpAuth, Duration reloadInterval) {
  public static final Duration DEFAULT_RELOAD_INTERVAL = Duration.ofSeconds(10);
  public static final SecurityConfig NONE = new SecurityConfig(null, null, HttpAuth.NONE, DEFAULT_RELOAD_INTERVAL);

  /**
   * Loads the files and starts watching them.
   *
   * @param requiredRole the role each gRPC method needs
   * @throws IllegalArgumentException a file is missing, unreadable, malformed or (the users
   *     file) readable by others; the message names it
   */
  public ServerSecurity open(Function<String, Role> requiredRole) {
    TlsMaterial material = tls == null ? null : TlsMaterial.load(tls);
    UserDirectory users;
    try {
      users = authConfigFile == null ? null : UserDirectory.load(authConfigFile, reloadInterval);
    } catch (RuntimeException e) {
      if (material != null) {
        material.close();
      }
      throw e;
    }
    return new ServerSecurity(material, users, requiredRole, users == null ? HttpAuth.NONE : httpAuth);
  }
}
