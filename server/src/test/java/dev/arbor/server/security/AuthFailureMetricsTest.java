package dev.arbor.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.banyandb.common.v1.GetAPIVersionRequest;
import dev.arbor.api.banyandb.common.v1.ServiceGrpc;
import dev.arbor.transport.ClientSecurity;
import dev.arbor.transport.Credentials;
import dev.arbor.transport.HttpAuth;
import dev.arbor.transport.SecurityConfig;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Refused logins on gRPC and HTTP are counted by reason in {@code arbor_auth_failures_total}. */
class AuthFailureMetricsTest {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  @TempDir Path dir;

  private static Status.Code grpc(SecureStandalone s, ClientSecurity security) {
    try {
      ServiceGrpc.newBlockingStub(s.channel(security)).withDeadlineAfter(10, TimeUnit.SECONDS)
          .getAPIVersion(GetAPIVersionRequest.getDefaultInstance());
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  private static ClientSecurity as(String user, String password) {
    return ClientSecurity.PLAINTEXT.withCredentials(new Credentials(user, password));
  }

  private static HttpResponse<String> metrics(SecureStandalone s, String user, String password) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.server.httpPort() + "/metrics"))
        .timeout(Duration.ofSeconds(20));
    if (user != null) {
      b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
          (user + ":" + password).getBytes(StandardCharsets.UTF_8)));
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static double failures(String scrape, String reason) {
    Matcher m = Pattern.compile("(?m)^arbor_auth_failures_total\\{[^}]*reason=\"" + reason + "\"[^}]*\\} (\\S+)$")
        .matcher(scrape);
    assertThat(m.find()).as("a series for reason %s in:%n%s", reason, scrape).isTrue();
    return Double.parseDouble(m.group(1));
  }

  @Test
  void refusedLoginsAreCountedByReasonOnGrpcAndHttp() throws Exception {
    Path users = SecureStandalone.writeUsers(dir.resolve("users.yaml"), """
        users:
          - {username: alice, password: s3cret, role: read}
        """);
    try (SecureStandalone s = SecureStandalone.start(dir.resolve("data"),
        new SecurityConfig(null, users, HttpAuth.PROTECTED, Duration.ofSeconds(10)))) {
      assertThat(grpc(s, as("alice", "s3cret"))).isEqualTo(Status.Code.OK);
      assertThat(grpc(s, ClientSecurity.PLAINTEXT)).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(grpc(s, as("alice", "wrong"))).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(grpc(s, as("alice", "also-wrong"))).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(grpc(s, as("mallory", "s3cret"))).isEqualTo(Status.Code.UNAUTHENTICATED);

      assertThat(metrics(s, null, null).statusCode()).isEqualTo(401);
      assertThat(metrics(s, "alice", "nope").statusCode()).isEqualTo(401);
      assertThat(metrics(s, "eve", "x").statusCode()).isEqualTo(401);

      HttpResponse<String> ok = metrics(s, "alice", "s3cret");
      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat(failures(ok.body(), "missing")).isEqualTo(2.0);
      assertThat(failures(ok.body(), "wrong_password")).isEqualTo(3.0);
      assertThat(failures(ok.body(), "unknown_user")).isEqualTo(2.0);
    }
  }
}
