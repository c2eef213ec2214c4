package dev.arbor.transport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The users of {@code --auth-config-file}, in BanyanDB's format plus two optional fields:
 *
 * <pre>
 * users:
 *   - username: alice
 *     password: plain-text        # as BanyanDB
 *     role: write                 # read | write | admin; absent = admin, as BanyanDB grants all
 *   - username: bob
 *     password_hash: "$2b$12$..." # bcrypt instead of a plain password
 *     role: read
 * </pre>
 *
 * <p>The file holds secrets, so it is refused unless only its owner can read it (0600 or 0400).
 * It is re-read when its content changes; a change that does not parse, or that widens the
 * permissions, is logged and the previous users stay in force.
 *
 * <p>Checks take the same time whether the user exists or not and whichever byte of the password
 * differs: digests are compared with {@link MessageDigest#isEqual}. A bcrypt check is slow by
 * design, so a password once verified is remembered (as a digest) until the file changes.
 */
public final class UserDirectory implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(UserDirectory.class);
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Set<String> FIELDS = Set.of("username", "password", "password_hash", "role");
  /** Compared against when the user does not exist, so the answer takes as long as for a user. */
  private static final byte[] NO_USER = sha256("\u0000no such user\u0000");

  private final Path file;
  private volatile Snapshot current;
  private final ScheduledExecutorService watcher;

  private UserDirectory(Path file, Snapshot initial, Duration reloadInterval) {
    this.file = file;
    this.current = initial;
    if (reloadInterval == null) {
      watcher = null;
      return;
    }
    watcher = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "arbor-auth-reload");
      t.setDaemon(true);
      return t;
    });
    long ms = reloadInterval.toMillis();
    watcher.scheduleWithFixedDelay(this::reloadIfChanged, ms, ms, TimeUnit.MILLISECONDS);
  }

  /**
   * Reads the file and, with a non-null {@code reloadInterval}, re-reads it when it changes.
   *
   * @throws IllegalArgumentException the file is unreadable, too open, or malformed; the message
   *     names the file and the problem
   */
  public static UserDirectory load(Path file, Duration reloadInterval) {
    return new UserDirectory(file, read(file), reloadInterval);
  }

  /** A fixed set of users (tests, and callers that manage their own source). */
  public static UserDirectory of(Map<String, User> users) {
    return new UserDirectory(null, new Snapshot(null, Map.copyOf(users)), null);
  }

  /** One user: who, what role, and either a plain password or a bcrypt hash. */
  public record User(String username, Role role, byte[] passwordDigest, String bcryptHash) {
    public static User plain(String username, String password, Role role) {
      return new User(username, role, sha256(password), null);
    }

    public static User hashed(String username, String bcryptHash, Role role) {
      return new User(username, role, null, bcryptHash);
    }
  }

  private record Snapshot(byte[] fileDigest, Map<String, User> users) {}

  private final AuthFailures failures = new AuthFailures();

  /** Verified bcrypt passwords, as digests, for the snapshot they were verified against. */
  private final Map<String, byte[]> verified = new ConcurrentHashMap<>();

  /**
   * The role of the user if the password is theirs; empty when the user or password is wrong
   * (counted in {@link #failures()}, by which).
   */
  public Optional<Role> authenticate(String username, String password) {
    Snapshot s = current;
    User u = s.users().get(username);
    byte[] given = sha256(password);
    if (u == null) {
      MessageDigest.isEqual(given, NO_USER);
      failures.record(AuthFailures.Reason.UNKNOWN_USER);
      return Optional.empty();
    }
    if (u.passwordDigest() != null) {
      return MessageDigest.isEqual(given, u.passwordDigest()) ? Optional.of(u.role()) : wrongPassword();
    }
    String key = u.bcryptHash() + '\u0000' + username;
    byte[] known = verified.get(key);
    if (known != null && MessageDigest.isEqual(given, known)) {
      return Optional.of(u.role());
    }
    if (OpenBSDBCrypt.checkPassword(u.bcryptHash(), password.toCharArray())) {
      verified.put(key, given);
      return Optional.of(u.role());
    }
    return wrongPassword();
  }

  private Optional<Role> wrongPassword() {
    failures.record(AuthFailures.Reason.WRONG_PASSWORD);
    return Optional.empty();
  }

  /** A call that came without credentials (counted; the caller refuses it). */
  public void missingCredentials() {
    failures.record(AuthFailures.Reason.MISSING);
  }

  /** Logins refused, by reason, since this directory was loaded. */
  public AuthFailures failures() {
    return failures;
  }

  /** How many users are configured (logs and tests). */
  public int size() {
    return current.users().size();
  }

  void reloadIfChanged() {
    try {
      byte[] bytes = Files.readAllBytes(file);
      if (Arrays.equals(sha256(bytes), current.fileDigest())) {
        return;
      }
      Snapshot next = read(file);
      verified.clear();
      current = next;
      LOG.info("reloaded {}: {} users", file, next.users().size());
    } catch (IllegalArgumentException | IOException e) {
      LOG.warn("not reloading {} (the previous users stay in force): {}", file, e.getMessage());
    } catch (RuntimeException e) {
      LOG.warn("not reloading {} (the previous users stay in force)", file, e);
    }
  }

  private static Snapshot read(Path file) {
    checkPermissions(file);
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read --auth-config-file " + file + ": " + TlsMaterial.describe(e), e);
    }
    JsonNode root;
    try {
      root = YAML.readTree(bytes);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException("--auth-config-file " + file + " is not valid YAML: "
          + e.getOriginalMessage().replace('\n', ' '), e);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read --auth-config-file " + file + ": " + TlsMaterial.describe(e), e);
    }
    String where = "--auth-config-file " + file;
    if (root == null || !root.isObject() || !root.path("users").isArray()) {
      throw new IllegalArgumentException(where + ": expected a top-level 'users:' list");
    }
    Map<String, User> users = new LinkedHashMap<>();
    int i = 0;
    for (JsonNode n : root.get("users")) {
      String at = where + ": users[" + i++ + "]";
      if (!n.isObject()) {
        throw new IllegalArgumentException(at + " is not a mapping");
      }
      for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
        String f = it.next();
        if (!FIELDS.contains(f)) {
          throw new IllegalArgumentException(at + " has unknown field '" + f + "' (allowed: " + FIELDS + ")");
        }
      }
      String name = n.path("username").asText("");
      if (name.isEmpty()) {
        throw new IllegalArgumentException(at + " has no username");
      }
      if (users.containsKey(name)) {
        throw new IllegalArgumentException(at + ": user '" + name + "' is listed twice");
      }
      Role role;
      try {
        role = n.has("role") ? Role.parse(n.get("role").asText()) : Role.ADMIN;
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(at + " (" + name + "): " + e.getMessage(), e);
      }
      boolean plain = n.has("password");
      boolean hashed = n.has("password_hash");
      if (plain == hashed) {
        throw new IllegalArgumentException(at + " (" + name + ") needs exactly one of password and password_hash");
      }
      if (plain) {
        String pw = n.get("password").asText("");
        if (pw.isEmpty()) {
          throw new IllegalArgumentException(at + " (" + name + ") has an empty password");
        }
        users.put(name, User.plain(name, pw, role));
      } else {
        String hash = n.get("password_hash").asText("");
        if (!hash.matches("\\$2[aby]\\$\\d\\d\\$[./A-Za-z0-9]{53}")) {
          throw new IllegalArgumentException(at + " (" + name + "): password_hash is not a bcrypt hash ($2a$, $2b$"
              + " or $2y$ followed by the cost and 53 characters)");
        }
        users.put(name, User.hashed(name, hash, role));
      }
    }
    return new Snapshot(sha256(bytes), Map.copyOf(users));
  }

  private static void checkPermissions(Path file) {
    Set<PosixFilePermission> perms;
    try {
      perms = Files.getPosixFilePermissions(file);
    } catch (UnsupportedOperationException e) {
      return; // not a POSIX file system: nothing to check against
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read --auth-config-file " + file + ": " + TlsMaterial.describe(e), e);
    }
    for (PosixFilePermission p : perms) {
      if (p != PosixFilePermission.OWNER_READ && p != PosixFilePermission.OWNER_WRITE) {
        throw new IllegalArgumentException("--auth-config-file " + file + " holds passwords but is readable by"
            + " others (" + java.nio.file.attribute.PosixFilePermissions.toString(perms) + "); run chmod 600 "
            + file);
      }
    }
  }

  static byte[] sha256(String s) {
    return sha256(s.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }

  @Override
  public void close() {
    if (watcher != null) {
      watcher.shutdownNow();
    }
  }
}
