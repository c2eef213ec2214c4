package dev.arbor.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Parsing, validation and reloading of the users file, without a server. */
class UserDirectoryTest {
  @TempDir Path dir;

  private Path users(String yaml, String perms) throws IOException {
    Path f = dir.resolve("users.yaml");
    Files.writeString(f, yaml, StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(perms));
    return f;
  }

  @Test
  void rolesDefaultToAdminAsInBanyanDb() throws IOException {
    UserDirectory d = UserDirectory.load(users("""
        users:
          - username: a
            password: pa
          - username: r
            password: pr
            role: read
        """, "rw-------"), null);
    assertThat(d.authenticate("a", "pa")).contains(Role.ADMIN);
    assertThat(d.authenticate("r", "pr")).contains(Role.READ);
    assertThat(d.authenticate("r", "pa")).isEmpty();
    assertThat(d.authenticate("nobody", "pa")).isEmpty();
  }

  @Test
  void readOnlyForTheOwnerIsAccepted() throws IOException {
    assertThat(UserDirectory.load(users("users: []\n", "r--------"), null).size()).isZero();
  }

  @Test
  void malformedFilesAreRefusedNamingTheProblem() throws IOException {
    assertThatThrownBy(() -> UserDirectory.load(users("users:\n  - username: a\n    pasword: x\n", "rw-------"), null))
        .hasMessageContaining("unknown field 'pasword'");
    assertThatThrownBy(() -> UserDirectory.load(users("users:\n  - username: a\n", "rw-------"), null))
        .hasMessageContaining("exactly one of password and password_hash");
    assertThatThrownBy(() -> UserDirectory.load(users(
        "users:\n  - username: a\n    password: x\n    role: root\n", "rw-------"), null))
        .hasMessageContaining("unknown role 'root'");
    assertThatThrownBy(() -> UserDirectory.load(users(
        "users:\n  - username: a\n    password_hash: plain\n", "rw-------"), null))
        .hasMessageContaining("not a bcrypt hash");
    assertThatThrownBy(() -> UserDirectory.load(users(
        "users:\n  - {username: a, password: x}\n  - {username: a, password: y}\n", "rw-------"), null))
        .hasMessageContaining("listed twice");
    assertThatThrownBy(() -> UserDirectory.load(users("nobody: here\n", "rw-------"), null))
        .hasMessageContaining("'users:' list");
    assertThatThrownBy(() -> UserDirectory.load(users("users: [\n", "rw-------"), null))
        .hasMessageContaining("not valid YAML");
    assertThatThrownBy(() -> UserDirectory.load(users("users: []\n", "rw-rw----"), null))
        .hasMessageContaining("chmod 600");
  }

  @Test
  void aBrokenOrTooOpenEditKeepsThePreviousUsers() throws IOException {
    Path f = users("users:\n  - {username: a, password: one}\n", "rw-------");
    UserDirectory d = UserDirectory.load(f, null);

    Files.writeString(f, "users: [ {username: a\n", StandardCharsets.UTF_8);
    d.reloadIfChanged();
    assertThat(d.authenticate("a", "one")).isPresent();

    Files.writeString(f, "users:\n  - {username: a, password: two}\n", StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    d.reloadIfChanged();
    assertThat(d.authenticate("a", "one")).isPresent();
    assertThat(d.authenticate("a", "two")).isEmpty();

    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
    d.reloadIfChanged();
    assertThat(d.authenticate("a", "two")).isEqualTo(Optional.of(Role.ADMIN));
    assertThat(d.authenticate("a", "one")).isEmpty();
  }
}
