package dev.arbor.property;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a group or schema name, a property id and a tag key may be. Group names become directory
 * names on every data node (and schema names may), so they are restricted to a portable set that
 * can never mean "this directory" or "the parent": letters, digits, {@code _}, {@code -} and
 * {@code .}, starting with a letter, digit or {@code _}, at most {@value #MAX_NAME_LENGTH}
 * characters. That covers every name the official client's workflow and SkyWalking use
 * ({@code sw_metricsMinute}, {@code ui_template}, ...). Ids and tag keys never become paths: they
 * only get length limits, so an immense value is refused before it reaches the index.
 */
public final class Names {
  public static final int MAX_NAME_LENGTH = 128;
  /** Below Lucene's 32,766-byte term limit with room for the group and name in the entity term. */
  public static final int MAX_ID_BYTES = 4096;
  public static final int MAX_TAG_KEY_LENGTH = 256;

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.\\-]*");

  private Names() {}

  /** Why {@code name} is not a valid group or schema name, or empty when it is. */
  public static Optional<String> nameProblem(String name) {
    if (name == null || name.isEmpty()) {
      return Optional.of("must not be empty");
    }
    if (name.length() > MAX_NAME_LENGTH) {
      return Optional.of("is " + name.length() + " characters long, the limit is " + MAX_NAME_LENGTH);
    }
    if (!NAME.matcher(name).matches()) {
      return Optional.of("'" + printable(name) + "' may hold only letters, digits, '_', '-' and '.'"
          + " and must start with a letter, digit or '_'");
    }
    return Optional.empty();
  }

  public static boolean isValidName(String name) {
    return nameProblem(name).isEmpty();
  }

  /** Why {@code id} is not a valid property id, or empty when it is. */
  public static Optional<String> idProblem(String id) {
    if (id == null || id.isEmpty()) {
      return Optional.of("must not be empty");
    }
    int bytes = id.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_ID_BYTES) {
      return Optional.of("is " + bytes + " bytes long (UTF-8), the limit is " + MAX_ID_BYTES);
    }
    return Optional.empty();
  }

  /** Why {@code key} is not a valid tag key, or empty when it is. */
  public static Optional<String> tagKeyProblem(String key) {
    if (key == null || key.isEmpty()) {
      return Optional.of("must not be empty");
    }
    if (key.length() > MAX_TAG_KEY_LENGTH) {
      return Optional.of("is " + key.length() + " characters long, the limit is " + MAX_TAG_KEY_LENGTH);
    }
    return Optional.empty();
  }

  /** The name with control characters escaped, safe to put in a one-line error message. */
  private static String printable(String s) {
    StringBuilder b = new StringBuilder();
    s.codePoints().limit(MAX_NAME_LENGTH + 1L).forEach(c -> {
      if (Character.isISOControl(c)) {
        b.append(String.format("\\u%04x", c));
      } else {
        b.appendCodePoint(c);
      }
    });
    return b.toString();
  }
}
