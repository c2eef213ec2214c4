package dev.arbor.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Reads one counter from a server's {@code GET /metrics} (Prometheus text). */
final class LiaisonMetrics {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private LiaisonMetrics() {}

  /** The sum of every sample of {@code name} (labels summed away); -1 when unreadable. */
  static double read(int httpPort, String name) {
    return read(HTTP, "http", httpPort, name);
  }

  /** As above, with {@code client} over {@code scheme} ({@code https} for a TLS server). */
  static double read(HttpClient client, String scheme, int httpPort, String name) {
    try {
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(
              URI.create(scheme + "://127.0.0.1:" + httpPort + "/metrics"))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        return -1;
      }
      double sum = 0;
      boolean found = false;
      for (String line : r.body().lines().toList()) {
        if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
          sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
          found = true;
        }
      }
      return found ? sum : -1;
    } catch (Exception e) {
      return -1;
    }
  }
}
