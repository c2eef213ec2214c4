package dev.arbor.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import javax.net.ssl.SSLContext;

/** What curl does against the HTTP API: a method, a path, a JSON body, optionally basic-auth credentials. */
public final class ApiClient {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http;
  private final String base;
  private String user;
  private String password;

  public ApiClient(String base) {
    this(base, null);
  }

  public ApiClient(String base, SSLContext tls) {
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
    if (tls != null) {
      b.sslContext(tls);
    }
    this.http = b.build();
    this.base = base;
  }

  /** Sends these credentials from now on (null: none). */
  public ApiClient as(String user, String password) {
    this.user = user;
    this.password = password;
    return this;
  }

  /** The answer: status, parsed JSON body (null when empty or not JSON) and headers. */
  public record Answer(int status, JsonNode json, String body, HttpHeaders headers) {
    /** The gRPC code of an error answer. */
    public int code() {
      return json.path("code").asInt(-1);
    }

    public String message() {
      return json.path("message").asText();
    }

    @Override
    public String toString() {
      return status + " " + body;
    }
  }

  public Answer send(String method, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    if (user != null) {
      b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
          (user + ":" + password).getBytes(StandardCharsets.UTF_8)));
    }
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    boolean isJson = r.headers().firstValue("Content-Type").orElse("").startsWith("application/json");
    JsonNode json = r.body().isBlank() || !isJson ? null : JSON.readTree(r.body());
    return new Answer(r.statusCode(), json, r.body(), r.headers());
  }

  public Answer get(String path) throws Exception {
    return send("GET", path, null);
  }

  public Answer post(String path, String body) throws Exception {
    return send("POST", path, body);
  }

  public Answer put(String path, String body) throws Exception {
    return send("PUT", path, body);
  }

  public Answer delete(String path) throws Exception {
    return send("DELETE", path, null);
  }
}
