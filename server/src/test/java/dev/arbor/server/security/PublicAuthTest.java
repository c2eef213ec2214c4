package dev.arbor.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.arbor.api.banyandb.common.v1.GetAPIVersionRequest;
import dev.arbor.api.banyandb.common.v1.ServiceGrpc;
import dev.arbor.transport.ClientSecurity;
import dev.arbor.transport.Credentials;
import dev.arbor.transport.HttpAuth;
import dev.arbor.transport.SecurityConfig;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Users from {@code --auth-config-file} on a real standalone server: who gets in, and reloads. */
class PublicAuthTest {
  private static final Duration RELOAD = Duration.ofMillis(200);

  @TempDir Path dir;

  private SecurityConfig auth(Path users) {
    return new SecurityConfig(null, users, HttpAuth.PROTECTED, RELOAD);
  }

  private static Status.Code call(ManagedChannel ch) {
    try {
      ServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
          .getAPIVersion(GetAPIVersionRequest.getDefaultInstance());
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  private static ClientSecurity as(String user, String password) {
    return ClientSecurity.PLAINTEXT.withCredentials(new Credentials(user, password));
  }

  @Test
  void missingOrWrongCredentialsAreUnauthenticated() throws Exception {
    Path users = SecureStandalone.writeUsers(dir.resolve("users.yaml"), """
        users:
          - username: alice
            password: s3cret
            role: read
        """);
    try (SecureStandalone s = SecureStandalone.start(dir.resolve("data"), auth(users))) {
      assertThat(call(s.channel(as("alice", "s3cret")))).isEqualTo(Status.Code.OK);
      assertThat(call(s.channel(ClientSecurity.PLAINTEXT))).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(call(s.channel(as("alice", "s3cres")))).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(call(s.channel(as("alice", "")))).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(call(s.channel(as("bob", "s3cret")))).isEqualTo(Status.Code.UNAUTHENTICATED);

      StatusRuntimeException missing = catchThrowableOfType(StatusRuntimeException.class,
          () -> ServiceGrpc.newBlockingStub(s.channel(ClientSecurity.PLAINTEXT))
              .getAPIVersion(GetAPIVersionRequest.getDefaultInstance()));
      assertThat(missing.getStatus().getDescription()).contains("username and password");
    }
  }

  @Test
  void bcryptHashedPasswordsAreAccepted() throws Exception {
    byte[] salt = new byte[16];
    new SecureRandom().nextBytes(salt);
    String hash = OpenBSDBCrypt.generate("2b", "hashed-pw".toCharArray(), salt, 4);
    Path users = SecureStandalone.writeUsers(dir.resolve("users.yaml"), """
        users:
          - username: carol
            password_hash: "%s"
            role: admin
        """.formatted(hash));
    try (SecureStandalone s = SecureStandalone.start(dir.resolve("data"), auth(users))) {
      assertThat(call(s.channel(as("carol", "hashed-pw")))).isEqualTo(Status.Code.OK);
      // A second call takes the remembered digest; both the right and a wrong password still behave.
      assertThat(call(s.channel(as("carol", "hashed-pw")))).isEqualTo(Status.Code.OK);
      assertThat(call(s.channel(as("carol", "hashed-px")))).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(call(s.channel(as("carol", hash)))).isEqualTo(Status.Code.UNAUTHENTICATED);
    }
  }

  @Test
  void usersFileIsReloadedWithoutRestart() throws Exception {
    Path users = SecureStandalone.writeUsers(dir.resolve("users.yaml"), """
        users:
          - username: alice
            password: one
        """);
    try (SecureStandalone s = SecureStandalone.start(dir.resolve("data"), auth(users))) {
      assertThat(call(s.channel(as("alice", "one")))).isEqualTo(Status.Code.OK);
      SecureStandalone.writeUsers(users, """
          users:
            - username: alice
              password: two
            - username: dave
              password: four
          """);
      Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
          .until(() -> call(s.channel(as("dave", "four"))) == Status.Code.OK);
      assertThat(call(s.channel(as("alice", "two")))).isEqualTo(Status.Code.OK);
      assertThat(call(s.channel(as("alice", "one")))).isEqualTo(Status.Code.UNAUTHENTICATED);

      SecureStandalone.writeUsers(users, """
          users:
            - username: alice
              password: two
          """);
      Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
          .until(() -> call(s.channel(as("dave", "four"))) == Status.Code.UNAUTHENTICATED);
      assertThat(call(s.channel(as("alice", "two")))).isEqualTo(Status.Code.OK);
    }
  }

  @Test
  void usersFileReadableByOthersIsRefusedAtStart() throws Exception {
    Path users = dir.resolve("users.yaml");
    Files.writeString(users, "users:\n  - username: a\n    password: b\n", StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(users, PosixFilePermissions.fromString("rw-r--r--"));
    IllegalArgumentException e = catchThrowableOfType(IllegalArgumentException.class,
        () -> SecureStandalone.start(dir.resolve("data"), auth(users)));
    assertThat(e).hasMessageContaining(users.toString()).hasMessageContaining("chmod 600");
    assertThat(Files.exists(dir.resolve("data"))).as("nothing opened before the refusal").isFalse();
  }
}
