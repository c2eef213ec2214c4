package dev.arbor.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * etcd's own JSON gateway ({@code /v3/kv/...}), so tests can write, delete and count keys in a
 * real etcd without an etcd client library on this class path (it would bring a second gRPC).
 */
final class EtcdGateway {
  private static final Pattern COUNT = Pattern.compile("\"count\"\\s*:\\s*\"?(\\d+)");
  private final URI base;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  EtcdGateway(URI base) {
    this.base = base;
  }

  void put(String key, byte[] value) throws Exception {
    call("/v3/kv/put", "{\"key\":\"" + b64(key) + "\",\"value\":\"" + b64(value) + "\"}");
  }

  void delete(String key) throws Exception {
    call("/v3/kv/deleterange", "{\"key\":\"" + b64(key) + "\"}");
  }

  /** Deletes every key starting with {@code prefix} ({@code etcdctl del --prefix}). */
  void deletePrefix(String prefix) throws Exception {
    call("/v3/kv/deleterange", "{\"key\":\"" + b64(prefix) + "\",\"range_end\":\"" + b64(rangeEnd(prefix)) + "\"}");
  }

  private static byte[] rangeEnd(String prefix) {
    byte[] end = prefix.getBytes(StandardCharsets.UTF_8);
    end = Arrays.copyOf(end, end.length);
    end[end.length - 1]++;
    return end;
  }

  /** The raw JSON reply of a range read when the key exists, else null. */
  String get(String key) throws Exception {
    String r = call("/v3/kv/range", "{\"key\":\"" + b64(key) + "\"}");
    return r.contains("\"kvs\"") ? r : null;
  }

  /** How many keys start with {@code prefix}. */
  long countPrefix(String prefix) throws Exception {
    byte[] end = prefix.getBytes(StandardCharsets.UTF_8);
    end = Arrays.copyOf(end, end.length);
    end[end.length - 1]++;
    String r = call("/v3/kv/range", "{\"key\":\"" + b64(prefix) + "\",\"range_end\":\"" + b64(end)
        + "\",\"count_only\":true}");
    Matcher m = COUNT.matcher(r);
    return m.find() ? Long.parseLong(m.group(1)) : 0L;
  }

  private String call(String path, String json) throws Exception {
    HttpResponse<String> r = http.send(
        HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10))
            .POST(HttpRequest.BodyPublishers.ofString(json)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("etcd %s: %s", path, r.body()).isEqualTo(200);
    return r.body();
  }

  private static String b64(String s) {
    return b64(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }
}
