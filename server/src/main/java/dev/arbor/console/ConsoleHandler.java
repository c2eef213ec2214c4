package dev.arbor.console;

import dev.arbor.runtime.NodeRuntime;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.console.v1.TreeStatusResponse;
import dev.arbor.api.repair.v1.TracesRequest;
import dev.arbor.api.repair.v1.TracesResponse;
import dev.arbor.cluster.Placement;
import dev.arbor.metadata.RegisteredNode;
import dev.arbor.transport.Role;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The web console: {@code GET /} redirects to {@code /console/cluster}; the four pages and their
 * assets are classpath resources; the JSON they poll is under {@code /console/api/}. With users
 * configured every request needs HTTP basic-auth credentials (role {@code read}), and starting a
 * repair needs role {@code admin}.
 *
 * <p>JSON answers ask other nodes, so they run on a small bounded pool of their own (503 when it
 * is full); {@code /health} and the pages never wait behind them. Pages send a strict Content
 * Security Policy (scripts and styles from this origin only), and a repair is started only by a
 * JSON POST, which a page of another origin cannot send without the browser asking first.
 */
public final class ConsoleHandler implements HttpHandler, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ConsoleHandler.class);
  private static final String JSON = "application/json; charset=utf-8";
  static final Set<String> PAGES = ConsolePages.names();
  private static final Pattern ASSET = Pattern.compile("[a-z0-9][a-z0-9.-]*\\.(css|js|svg)");
  private static final String RESOURCES = "/dev/arbor/console/";
  static final int THREADS = 4;
  static final int QUEUE = 32;
  static final int DEFAULT_ROUNDS = 50;
  static final int MAX_ROUNDS = 500;

  private final ConsoleSources sources;
  private final ConsoleAuth auth;
  private final LongSupplier nowMs;
  private final RepairJobs jobs;
  private final ObjectMapper mapper = new ObjectMapper();
  private final java.util.concurrent.ExecutorService pool;
  private final ConsolePages pages = ConsolePages.load();

  public ConsoleHandler(ConsoleSources sources, LongSupplier nowMs) {
    this(NodeRuntime.system(), sources, nowMs);
  }

  /** On the node's runtime: its wall clock dates the pages, its threads serve them and run repair jobs. */
  public ConsoleHandler(NodeRuntime runtime, ConsoleSources sources) {
    this(runtime, sources, runtime.wallClock()::millis);
  }

  private ConsoleHandler(NodeRuntime runtime, ConsoleSources sources, LongSupplier nowMs) {
    this.sources = sources;
    this.auth = new ConsoleAuth(sources.users());
    this.nowMs = nowMs;
    this.jobs = sources.launcher() == null ? null : new RepairJobs(runtime, sources.launcher(), nowMs);
    pool = runtime.newExecutor("arbor-console", THREADS, QUEUE);
  }

  /** A refusal: HTTP status and the reason shown to the user. */
  private static final class Refusal extends Exception {
    final int status;

    Refusal(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  @Override
  public void handle(HttpExchange ex) throws IOException {
    try {
      String path = ex.getRequestURI().getRawPath();
      Optional<Role> role = auth.role(ex);
      if (role.isEmpty()) {
        ex.getResponseHeaders().set("WWW-Authenticate", ConsoleAuth.CHALLENGE);
        if (path.startsWith("/console/api/")) {
          sendError(ex, 401, "authentication required: send HTTP basic-auth credentials");
        } else {
          send(ex, 401, "authentication required\n", "text/plain; charset=utf-8");
        }
        return;
      }
      if (path.startsWith("/console/api/")) {
        try {
          pool.execute(() -> serveApi(ex, path, role.get()));
        } catch (RejectedExecutionException busy) {
          ex.getResponseHeaders().set("Retry-After", "1");
          sendError(ex, 503, "busy: " + THREADS + " console requests are running and " + QUEUE
              + " waiting; retry later");
        }
        return;
      }
      servePage(ex, path);
    } catch (IOException | RuntimeException e) {
      LOG.debug("console answer not sent ({})", e.toString());
      ex.close();
    }
  }

  private void servePage(HttpExchange ex, String path) throws IOException {
    String method = ex.getRequestMethod();
    if (!"GET".equals(method) && !"HEAD".equals(method)) {
      ex.getResponseHeaders().set("Allow", "GET, HEAD");
      send(ex, 405, "method not allowed\n", "text/plain; charset=utf-8");
      return;
    }
    if (path.equals("/") || path.equals("/console") || path.equals("/console/")) {
      ex.getResponseHeaders().set("Location", "/console/cluster");
      send(ex, 302, "", "text/plain; charset=utf-8");
      return;
    }
    String resource = null;
    String type = null;
    byte[] body = null;
    if (path.startsWith("/console/assets/")) {
      String name = path.substring("/console/assets/".length());
      if (ASSET.matcher(name).matches()) {
        resource = RESOURCES + "assets/" + name;
        type = switch (name.substring(name.lastIndexOf('.') + 1)) {
          case "css" -> "text/css; charset=utf-8";
          case "js" -> "text/javascript; charset=utf-8";
          default -> "image/svg+xml";
        };
      }
      body = resource == null ? null : read(resource);
    } else if (path.startsWith("/console/")) {
      body = pages.page(path.substring("/console/".length()));
      type = "text/html; charset=utf-8";
    }
    if (body == null) {
      send(ex, 404, "no such page: " + path + " (the console starts at /console/cluster)\n",
          "text/plain; charset=utf-8");
      return;
    }
    ex.getResponseHeaders().set("Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'");
    ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
    ex.getResponseHeaders().set("Cache-Control", "no-cache");
    send(ex, 200, body, type);
  }

  static byte[] read(String resource) throws IOException {
    try (InputStream in = ConsoleHandler.class.getResourceAsStream(resource)) {
      return in == null ? null : in.readAllBytes();
    }
  }

  private void serveApi(HttpExchange ex, String path, Role role) {
    try {
      Object body = api(ex, path.substring("/console/api/".length()), role);
      sendJson(ex, 200, body);
    } catch (Refusal r) {
      sendErrorQuietly(ex, r.status, r.getMessage());
    } catch (dev.arbor.errors.NotFoundException e) {
      sendErrorQuietly(ex, 404, e.getMessage());
    } catch (dev.arbor.errors.InvalidArgumentException e) {
      sendErrorQuietly(ex, 400, e.getMessage());
    } catch (RuntimeException e) {
      LOG.warn("console {} {} failed", ex.getRequestMethod(), path, e);
      sendErrorQuietly(ex, 500, "internal error answering " + path + "; see the server log");
    } catch (IOException e) {
      LOG.debug("console answer not sent ({})", e.toString());
      ex.close();
    }
  }

  private Object api(HttpExchange ex, String route, Role role) throws Refusal, IOException {
    List<String> seg = segments(route);
    String method = ex.getRequestMethod().toUpperCase(Locale.ROOT);
    if (seg.size() == 1 && seg.get(0).equals("repair")) {
      if (!"POST".equals(method)) {
        ex.getResponseHeaders().set("Allow", "POST");
        throw new Refusal(405, "use POST to start a repair");
      }
      if (!role.includes(Role.ADMIN)) {
        throw new Refusal(403, "starting a repair needs role admin; this user has role " + role.label());
      }
      return startRepair(ex);
    }
    if (!"GET".equals(method)) {
      ex.getResponseHeaders().set("Allow", "GET");
      throw new Refusal(405, "method " + method + " not allowed; use GET");
    }
    Map<String, String> query = query(ex.getRequestURI().getRawQuery());
    if (seg.equals(List.of("nodes"))) {
      return nodes();
    }
    if (seg.equals(List.of("groups"))) {
      return groups();
    }
    if (seg.size() == 3 && seg.get(0).equals("groups") && seg.get(2).equals("matrix")) {
      return ReplicaMatrix.build(sources, group(seg.get(1)), nowMs.getAsLong());
    }
    if (seg.equals(List.of("rounds"))) {
      return rounds(query.get("limit"));
    }
    if (seg.size() == 2 && seg.get(0).equals("repair")) {
      if (jobs == null) {
        throw new Refusal(404, "no repair " + seg.get(1) + ": this node runs no repair");
      }
      return jobs.progress(seg.get(1)).orElseThrow(() -> new Refusal(404, "no repair " + seg.get(1)
          + " started from this node's console (it may have been forgotten: the newest " + RepairJobs.KEPT
          + " are kept)"));
    }
    if (seg.size() == 5 && seg.get(0).equals("properties") && seg.get(4).equals("versions")) {
      return PropertyVersions.versions(sources, group(seg.get(1)), seg.get(2), seg.get(3));
    }
    throw new Refusal(404, "no such console route: /console/api/" + route);
  }

  private Group group(String name) throws Refusal {
    Group g = sources.metadata().group(name).orElseThrow(() -> new Refusal(404, "group " + name + " not found"));
    if (g.getCatalog() != Catalog.CATALOG_PROPERTY) {
      throw new Refusal(400, "group " + name + " is not a property group");
    }
    return g;
  }

  private Map<String, Object> startRepair(HttpExchange ex) throws Refusal, IOException {
    String type = ex.getRequestHeaders().getFirst("Content-Type");
    if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
      throw new Refusal(415, "send the repair request as JSON (Content-Type: application/json)");
    }
    byte[] raw;
    try (InputStream in = ex.getRequestBody()) {
      raw = in.readNBytes(64 * 1024);
    }
    JsonNode body;
    try {
      body = mapper.readTree(raw);
    } catch (JsonProcessingException e) {
      throw new Refusal(400, "malformed JSON body: " + e.getOriginalMessage());
    }
    if (body == null || !body.isObject() || !body.path("group").isTextual() || body.get("group").asText().isEmpty()) {
      throw new Refusal(400, "group must be set: {\"group\": \"name\", \"shard\": 0} (no shard: every shard)");
    }
    Group g = group(body.get("group").asText());
    Integer shard = null;
    JsonNode s = body.get("shard");
    if (s != null && !s.isNull() && !(s.isTextual() && s.asText().isBlank())) {
      try {
        shard = s.isInt() ? s.asInt() : Integer.parseInt(s.asText().trim());
      } catch (NumberFormatException e) {
        throw new Refusal(400, "shard '" + s.asText() + "' is not a number");
      }
      if (shard < 0 || shard >= g.getResourceOpts().getShardNum()) {
        throw new Refusal(400, "shard " + shard + " is out of range: group " + g.getMetadata().getName() + " has "
            + g.getResourceOpts().getShardNum() + " shard(s)");
      }
    }
    if (jobs == null) {
      throw new Refusal(409, "this node is standalone: it keeps one copy of each shard, so there is nothing to"
          + " compare or repair");
    }
    if (Placement.copies(g.getResourceOpts().getReplicas()) < 2) {
      throw new Refusal(409, "group " + g.getMetadata().getName() + " keeps one copy of each shard: nothing to"
          + " repair");
    }
    try {
      return Map.of("id", jobs.start(g.getMetadata().getName(), shard));
    } catch (RejectedExecutionException e) {
      ex.getResponseHeaders().set("Retry-After", "5");
      throw new Refusal(429, RepairJobs.RUNNING + " repairs started from this console are running; wait for one"
          + " to end");
    }
  }

  private List<Map<String, Object>> nodes() {
    List<RegisteredNode> registered = sources.nodes().get();
    Map<String, CompletableFuture<TreeStatusResponse>> asked = new LinkedHashMap<>();
    for (RegisteredNode n : registered) {
      if (n.hasRole("data") || n.hasRole("standalone")) {
        asked.put(n.id(), sources.access().treeStatus(n.id(), ""));
      }
    }
    long now = nowMs.getAsLong();
    long deadline = System.nanoTime() + sources.callTimeout().toNanos();
    List<Map<String, Object>> out = new ArrayList<>();
    for (RegisteredNode n : registered) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("id", n.id());
      String role = n.hasRole("standalone") ? "standalone" : n.hasRole("data") ? "data"
          : n.hasRole("liaison") ? "liaison" : String.join(",", n.roles());
      row.put("role", role);
      row.put("address", n.grpcAddress());
      row.put("self", n.id().equals(sources.selfId()));
      long registeredAt = label(n, ConsoleSources.REGISTERED_AT_LABEL);
      String health = n.id().equals(sources.selfId()) ? "serving" : "unknown";
      Double disk = null;
      List<String> problems = List.of();
      String detail = null;
      CompletableFuture<TreeStatusResponse> f = asked.get(n.id());
      if (f != null) {
        try {
          TreeStatusResponse r = f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
          problems = r.getProblemsList();
          health = problems.isEmpty() ? "serving" : "not-serving";
          disk = r.getDiskUsedPercent() < 0 ? null : r.getDiskUsedPercent();
          if (registeredAt == 0) {
            registeredAt = r.getStartedUnixMs();
          }
        } catch (TimeoutException e) {
          health = "not-serving";
          detail = "did not answer within " + sources.callTimeout().toMillis() + " ms";
        } catch (ExecutionException e) {
          health = "not-serving";
          detail = "unreachable: " + e.getCause().getMessage();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          detail = "interrupted";
        }
      }
      row.put("health", health);
      row.put("registeredAtMs", registeredAt == 0 ? null : registeredAt);
      row.put("registrationAgeMs", registeredAt == 0 ? null : Math.max(0, now - registeredAt));
      row.put("diskUsedPercent", disk);
      row.put("problems", problems);
      row.put("detail", detail);
      out.add(row);
    }
    return out;
  }

  private static long label(RegisteredNode n, String name) {
    try {
      return Long.parseLong(n.labels().getOrDefault(name, "0"));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private Map<String, Object> groups() {
    List<Map<String, Object>> groups = new ArrayList<>();
    for (Group g : sources.metadata().groups()) {
      if (g.getCatalog() != Catalog.CATALOG_PROPERTY) {
        continue;
      }
      Map<String, Object> m = new LinkedHashMap<>();
      String name = g.getMetadata().getName();
      m.put("name", name);
      m.put("shardNum", g.getResourceOpts().getShardNum());
      m.put("replicas", g.getResourceOpts().getReplicas());
      m.put("copies", Placement.copies(g.getResourceOpts().getReplicas()));
      List<Map<String, Object>> schemas = new ArrayList<>();
      for (var p : sources.metadata().schemas(name)) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("name", p.getMetadata().getName());
        s.put("tags", p.getTagsList().stream().map(t -> t.getName() + ":" + t.getType().name()
            .replaceFirst("^TAG_TYPE_", "").toLowerCase(Locale.ROOT)).toList());
        schemas.add(s);
      }
      m.put("schemas", schemas);
      groups.add(m);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("node", sources.selfId());
    out.put("role", sources.selfRole());
    out.put("repair", jobs != null);
    out.put("groups", groups);
    return out;
  }

  private Map<String, Object> rounds(String limitText) throws Refusal {
    int limit = DEFAULT_ROUNDS;
    if (limitText != null && !limitText.isEmpty()) {
      try {
        limit = Integer.parseInt(limitText);
      } catch (NumberFormatException e) {
        throw new Refusal(400, "limit '" + limitText + "' is not a number");
      }
      if (limit < 1 || limit > MAX_ROUNDS) {
        throw new Refusal(400, "limit must be between 1 and " + MAX_ROUNDS);
      }
    }
    List<Map<String, Object>> rows = new ArrayList<>(jobs == null ? List.of() : jobs.runningRounds());
    List<String> unreachable = List.of();
    if (sources.traces() != null) {
      // The store answers the oldest spans first, up to a limit: the window is narrowed until the
      // answer is not cut short, so the newest rounds are the ones shown (a round is ~10 spans).
      long now = nowMs.getAsLong();
      int max = Math.min(dev.arbor.observability.trace.TraceQuery.MAX_LIMIT, Math.max(1000, limit * 40));
      TracesResponse spans = null;
      for (long window : new long[] {TimeUnit.DAYS.toMillis(1), TimeUnit.HOURS.toMillis(1),
          TimeUnit.MINUTES.toMillis(5)}) {
        spans = sources.traces().apply(TracesRequest.newBuilder().setClusterWide(true)
            .setSinceUnixMs(now - window).setLimit(max).build());
        if (spans.getSpansCount() < max) {
          break;
        }
      }
      unreachable = spans.getUnreachableNodesList();
      java.util.Set<Object> shown = new java.util.HashSet<>();
      rows.forEach(r -> shown.add(r.get("roundId")));
      for (Map<String, Object> r : RoundTimeline.rounds(spans, limit)) {
        if (shown.add(r.get("roundId"))) {
          rows.add(r);
        }
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("rounds", rows.subList(0, Math.min(limit, rows.size())));
    out.put("unreachableNodes", unreachable);
    out.put("tracing", sources.traces() != null);
    return out;
  }

  private static List<String> segments(String route) throws Refusal {
    List<String> out = new ArrayList<>();
    for (String s : route.split("/", -1)) {
      try {
        out.add(URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        throw new Refusal(400, "malformed path segment '" + s + "'");
      }
    }
    if (!out.isEmpty() && out.get(out.size() - 1).isEmpty()) {
      out.remove(out.size() - 1);
    }
    return out;
  }

  private static Map<String, String> query(String raw) throws Refusal {
    Map<String, String> out = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      try {
        out.put(URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8),
            URLDecoder.decode(eq < 0 ? "" : pair.substring(eq + 1), StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        throw new Refusal(400, "malformed query parameter '" + pair + "'");
      }
    }
    return out;
  }

  private void sendJson(HttpExchange ex, int status, Object body) throws IOException {
    ex.getResponseHeaders().set("Cache-Control", "no-store");
    send(ex, status, mapper.writeValueAsBytes(body), JSON);
  }

  private void sendError(HttpExchange ex, int status, String message) throws IOException {
    sendJson(ex, status, Map.of("error", message.replace('\n', ' ')));
  }

  private void sendErrorQuietly(HttpExchange ex, int status, String message) {
    try {
      sendError(ex, status, message);
    } catch (IOException | RuntimeException e) {
      LOG.debug("console error answer not sent ({})", e.toString());
      ex.close();
    }
  }

  private static void send(HttpExchange ex, int status, String body, String type) throws IOException {
    send(ex, status, body.getBytes(StandardCharsets.UTF_8), type);
  }

  private static void send(HttpExchange ex, int status, byte[] body, String type) throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    if ("HEAD".equals(ex.getRequestMethod()) || body.length == 0) {
      ex.sendResponseHeaders(status, -1);
      ex.close();
      return;
    }
    ex.sendResponseHeaders(status, body.length);
    try (OutputStream os = ex.getResponseBody()) {
      os.write(body);
    }
  }

  @Override
  public void close() {
    pool.shutdownNow();
    if (jobs != null) {
      jobs.close();
    }
  }
}
