package dev.arbor.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The console behind HTTP basic auth, on a real {@code arbor standalone} with users (plaintext on
 * loopback, which is enough for the HTTP side): without credentials pages and their JSON answer
 * 401 with a Basic challenge (what makes a browser ask); a browser that sends a {@code read}
 * user's credentials on every request, as it does once its user answered that prompt, gets the
 * pages with live data; starting a repair needs {@code admin} (403 for the reader).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class ConsoleAuthIT {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private Path dir;
  private ArborProcess server;
  private Browser browser;

  @BeforeAll
  void start() throws Exception {
    dir = ArborProcess.newDataDir("console-auth");
    Path users = dir.resolve("users.yaml");
    Files.writeString(users, """
        users:
          - {username: admin, password: adm1n, role: admin}
          - {username: reader, password: r3ader, role: read}
        """, StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(users, PosixFilePermissions.fromString("rw-------"));
    server = ArborProcess.start("console-auth", Files.createDirectories(dir.resolve("data")),
        "--auth-config-file", users.toString());
    browser = Browser.start();
  }

  @AfterAll
  void stop() {
    if (browser != null) {
      browser.close();
    }
    if (server != null) {
      assertThat(server.stop()).as("exit code after SIGTERM").isZero();
    }
    ArborProcess.deleteDataDir(dir);
  }

  @Test
  void pagesAndTheirJsonAskForBasicAuth() throws Exception {
    for (String path : new String[] {"/console/cluster", "/console/groups", "/console/api/nodes"}) {
      HttpResponse<String> r = get(path, null);
      assertThat(r.statusCode()).as("%s without credentials", path).isEqualTo(401);
      assertThat(r.headers().firstValue("WWW-Authenticate")).as(path).hasValueSatisfying(v -> assertThat(v).startsWith("Basic"));
      assertThat(get(path, "reader:wrong").statusCode()).as("%s with a wrong password", path).isEqualTo(401);
      assertThat(get(path, "reader:r3ader").statusCode()).as("%s as reader", path).isEqualTo(200);
    }
  }

  @Test
  void aReaderSeesThePagesWithLiveData() {
    browser.basicAuth("reader", "r3ader");
    browser.open("http://127.0.0.1:" + server.httpPort() + "/console/cluster");
    assertThat(browser.await("main h1").getText()).isNotBlank();
    browser.until("#last-updated shows a poll", d -> browser.text("#last-updated").matches("(?s).*\\d.*"));
    browser.until("the standalone node listed", d ->
        !browser.all("table#nodes tr[data-node-id][data-role=standalone]").isEmpty());
    browser.assertNoSeriousA11yViolations("cluster page as reader");
    browser.screenshot("auth-reader-cluster");
  }

  @Test
  void startingARepairNeedsTheAdminRole() throws Exception {
    HttpResponse<String> r = post("/console/api/repair", "reader:r3ader", "{\"group\":\"g\"}");
    assertThat(r.statusCode()).as("POST repair as reader: %s", r.body()).isEqualTo(403);
    assertThat(r.body()).as("a JSON error naming the role").contains("admin");
  }

  private HttpResponse<String> get(String path, String credentials) throws Exception {
    return HTTP.send(request(path, credentials).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String path, String credentials, String body) throws Exception {
    return HTTP.send(request(path, credentials).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest.Builder request(String path, String credentials) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + path))
        .timeout(Duration.ofSeconds(10));
    if (credentials != null) {
      b.header("Authorization", "Basic "
          + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8)));
    }
    return b;
  }
}
