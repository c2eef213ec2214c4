package dev.arbor.observability;

import dev.arbor.runtime.NodeRuntime;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.Authenticator;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.transport.ServerSecurity;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP port: {@code GET /health} (200 "ok" while serving), {@code GET /metrics}, and JSON
 * routes other components add with {@link #addJsonRoute}. TLS and which routes need basic-auth
 * credentials come from the listener's {@link ServerSecurity}, so a route added later is
 * protected like the others.
 *
 * <p>JSON routes can be slow (a cluster-wide trace query waits for every node), so they run on
 * their own small bounded pool and answer 503 when it is full: {@code /health} and
 * {@code /metrics} stay on the server's threads and a liveness probe never waits behind them.
 */
public final class HttpEndpoints implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HttpEndpoints.class);
  private static final String JSON = "application/json; charset=utf-8";

  private final ObjectMapper mapper = new ObjectMapper();
  private final HttpServer server;
  private final ServerSecurity security;
  private final ExecutorService executor;
  /** Threads for JSON routes; its queue is bounded so a burst is refused, not piled up. */
  private final ExecutorService slowRoutes;
  private final java.util.concurrent.atomic.AtomicInteger slowInFlight =
      new java.util.concurrent.atomic.AtomicInteger();
  static final int SLOW_ROUTE_THREADS = 2;
  static final int SLOW_ROUTE_QUEUE = 8;

  public HttpEndpoints(String host, int port, PrometheusMeterRegistry registry, BooleanSupplier healthy)
      throws IOException {
    this(host, port, registry, healthy, java.util.List::of);
  }

  /**
   * @param problems failures that keep a serving node from doing its job (a failed disk): while
   *     any is reported, {@code /health} answers 503 with one reason per line
   */
  public HttpEndpoints(String host, int port, PrometheusMeterRegistry registry, BooleanSupplier healthy,
      java.util.function.Supplier<java.util.List<String>> problems) throws IOException {
    this(host, port, ServerSecurity.NONE, registry, healthy, problems);
  }

  /**
   * As above, over HTTPS when {@code security} has TLS, each route asking for basic-auth
   * credentials when {@code security} says it needs them.
   */
  public HttpEndpoints(String host, int port, ServerSecurity security, PrometheusMeterRegistry registry,
      BooleanSupplier healthy, java.util.function.Supplier<java.util.List<String>> problems) throws IOException {
    this(NodeRuntime.system(), host, port, security, registry, healthy, problems);
  }

  /** As above, its threads made by the node's runtime. */
  public HttpEndpoints(NodeRuntime runtime, String host, int port, ServerSecurity security,
      PrometheusMeterRegistry registry, BooleanSupplier healthy,
      java.util.function.Supplier<java.util.List<String>> problems) throws IOException {
    this.security = security;
    server = security.bindHttp(host, port, 64);
    executor = runtime.newExecutor("arbor-http", 2, Integer.MAX_VALUE);
    server.setExecutor(executor);
    slowRoutes = runtime.newExecutor("arbor-http-json", SLOW_ROUTE_THREADS, SLOW_ROUTE_QUEUE);
    HttpContext health = server.createContext("/health", ex -> {
      if (!healthy.getAsBoolean()) {
        respond(ex, 503, "unavailable\n", "text/plain; charset=utf-8");
        return;
      }
      java.util.List<String> failing = problems.get();
      respond(ex, failing.isEmpty() ? 200 : 503, failing.isEmpty() ? "ok\n" : String.join("\n", failing) + "\n",
          "text/plain; charset=utf-8");
    });
    protect(health);
    protect(server.createContext("/metrics", ex ->
        respond(ex, 200, registry.scrape(), "text/plain; version=0.0.4; charset=utf-8")));
    server.start();
  }

  private void protect(HttpContext context) {
    Authenticator auth = security.httpAuthenticator(context.getPath());
    if (auth != null) {
      context.setAuthenticator(auth);
    }
  }

  /**
   * Serves every path under {@code path} with {@code handler}, which answers for itself (method,
   * status, body); with {@code basicAuth} the route needs credentials as this listener's security
   * says for {@code path}. May be called while serving.
   */
  public void addHandler(String path, com.sun.net.httpserver.HttpHandler handler, boolean basicAuth) {
    HttpContext context = server.createContext(path, handler);
    if (basicAuth) {
      protect(context);
    }
  }

  /** JSON-route requests running or waiting (tests). */
  int slowRoutesInFlight() {
    return slowInFlight.get();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /**
   * Serves {@code GET <path>?name=value&...}: the handler gets the decoded query parameters (the
   * last value of a repeated name) and returns the JSON body. A handler rejects bad parameters
   * by throwing {@link InvalidArgumentException}: the answer is 400 with {@code {"error": msg}};
   * any other failure is a 500 of the same shape. May be called while serving.
   */
  public void addJsonRoute(String path, Function<Map<String, String>, String> handler) {
    protect(server.createContext(path, ex -> {
      try {
        slowInFlight.incrementAndGet();
        try {
          slowRoutes.execute(() -> {
            try {
              serveJson(ex, path, handler);
            } catch (IOException | RuntimeException e) {
              LOG.debug("GET {}: the answer could not be sent ({})", path, e.toString());
              ex.close();
            } finally {
              slowInFlight.decrementAndGet();
            }
          });
        } catch (RuntimeException refused) {
          slowInFlight.decrementAndGet();
          throw refused;
        }
      } catch (RejectedExecutionException busy) {
        ex.getResponseHeaders().set("Retry-After", "1");
        respond(ex, 503, errorJson("busy: " + SLOW_ROUTE_THREADS + " requests of this kind are running and "
            + SLOW_ROUTE_QUEUE + " waiting; retry later"), JSON);
      }
    }));
  }

  private void serveJson(HttpExchange ex, String path, Function<Map<String, String>, String> handler)
      throws IOException {
    // Contexts match by prefix: /repair/traces must not also answer /repair/tracesXYZ.
    if (!ex.getRequestURI().getPath().equals(path)) {
      respond(ex, 404, errorJson("no such path: " + ex.getRequestURI().getPath()), JSON);
      return;
    }
    String method = ex.getRequestMethod();
    if (!"GET".equals(method) && !"HEAD".equals(method)) {
      ex.getResponseHeaders().set("Allow", "GET, HEAD");
      respond(ex, 405, errorJson("method " + method + " not allowed; use GET"), JSON);
      return;
    }
    int code;
    String body;
    try {
      body = handler.apply(queryParameters(ex.getRequestURI().getRawQuery())) + "\n";
      code = 200;
    } catch (InvalidArgumentException e) {
      code = 400;
      body = errorJson(e.getMessage());
    } catch (RuntimeException e) {
      // The details (paths, peers, stack) stay in the server log, not in the answer.
      LOG.warn("GET {} failed", path, e);
      code = 500;
      body = errorJson("internal error answering " + path + "; see the server log");
    }
    respond(ex, code, body, JSON);
  }

  private static Map<String, String> queryParameters(String rawQuery) {
    Map<String, String> params = new LinkedHashMap<>();
    if (rawQuery == null || rawQuery.isEmpty()) {
      return params;
    }
    for (String pair : rawQuery.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      try {
        params.put(URLDecoder.decode(name, StandardCharsets.UTF_8), URLDecoder.decode(value, StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        throw new InvalidArgumentException("malformed query parameter '" + pair + "': " + e.getMessage());
      }
    }
    return params;
  }

  private String errorJson(String message) {
    try {
      // One line, so a client (or curl in a terminal) shows the whole reason at once.
      return mapper.writeValueAsString(Map.of("error", message.replace('\n', ' '))) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render an error message", e);
    }
  }

  private static void respond(HttpExchange ex, int code, String body, String type) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    if ("HEAD".equals(ex.getRequestMethod())) {
      ex.sendResponseHeaders(code, -1);
      ex.close();
      return;
    }
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream os = ex.getResponseBody()) {
      os.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    slowRoutes.shutdownNow();
  }
}
