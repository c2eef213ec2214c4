package dev.arbor.observability;

import dev.arbor.runtime.NodeRuntime;
import dev.arbor.runtime.Scheduler;
import io.grpc.BindableService;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Status;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import dev.arbor.transport.EndableCall;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpHandler;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Whether a node is ready to take requests, as the standard {@code grpc.health.v1.Health}
 * service and {@code GET /api/healthz} report it: SERVING only while the node says it serves and
 * no check reports a problem (storage failures; on a data node or liaison, etcd unreachable or its
 * registration lost; for a liaison, no data node registered).
 *
 * <p>A {@code Check} recomputes the status before it is answered, so it is never stale; a
 * {@code Watch} stream is updated by a refresh every {@link #REFRESH_MILLIS} ms. Once closed the
 * node answers NOT_SERVING for good (a drain in progress must take no new traffic).
 */
public final class NodeHealth implements AutoCloseable {
  /** How often Watch streams see a change; one cheap check per second. */
  static final long REFRESH_MILLIS = 1000;

  private final HealthStatusManager manager = new HealthStatusManager();
  private final BooleanSupplier serving;
  private final List<Supplier<List<String>>> checks;
  private final Scheduler refresher;
  private volatile boolean closed;
  private static final Status SHUTTING_DOWN = Status.UNAVAILABLE.withDescription("the node is shutting down");
  private final Set<EndableCall<?, ?>> open = ConcurrentHashMap.newKeySet();

  /** What the node reports: serving or not, and why not. */
  public record Readiness(boolean serving, List<String> reasons) {
    public ServingStatus grpcStatus() {
      return serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    }
  }

  /**
   * @param serving whether the node has finished starting and takes requests
   * @param checks problems that keep a serving node from doing its job; each empty when fine
   */
  @SafeVarargs
  public NodeHealth(BooleanSupplier serving, Supplier<List<String>>... checks) {
    this(NodeRuntime.system(), serving, checks);
  }

  /** As above, refreshed on a thread of the node's runtime. */
  @SafeVarargs
  public NodeHealth(NodeRuntime runtime, BooleanSupplier serving, Supplier<List<String>>... checks) {
    this.serving = serving;
    this.checks = List.of(checks);
    manager.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.NOT_SERVING);
    refresher = runtime.newScheduler("arbor-health");
    refresher.scheduleWithFixedDelay(this::refresh, java.time.Duration.ofMillis(REFRESH_MILLIS),
        java.time.Duration.ofMillis(REFRESH_MILLIS));
  }

  /** The status now, with the reasons when not serving. */
  public Readiness check() {
    if (closed) {
      return new Readiness(false, List.of("shutting down"));
    }
    if (!serving.getAsBoolean()) {
      return new Readiness(false, List.of("starting: not serving yet"));
    }
    List<String> reasons = new ArrayList<>();
    for (Supplier<List<String>> c : checks) {
      try {
        reasons.addAll(c.get());
      } catch (RuntimeException e) {
        // A check that cannot run says nothing good about the node.
        reasons.add("health check failed: " + e.getClass().getSimpleName());
      }
    }
    return new Readiness(reasons.isEmpty(), List.copyOf(reasons));
  }

  /** Publishes the current status to the gRPC health service (its Check and Watch answers). */
  public void refresh() {
    if (!closed) {
      manager.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, check().grpcStatus());
    }
  }

  /**
   * The {@code grpc.health.v1.Health} service; each call sees a freshly computed status, and
   * Watch streams end when this closes (a server draining its calls must not wait for them).
   */
  public BindableService grpcService() {
    BindableService health = manager.getHealthService();
    ServerInterceptor tracked = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        refresh();
        EndableCall<Q, R> endable = new EndableCall<>(call);
        open.add(endable);
        if (closed) {
          endable.end(SHUTTING_DOWN);
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
            next.startCall(endable, headers)) {
          @Override
          public void onCancel() {
            open.remove(endable);
            super.onCancel();
          }

          @Override
          public void onComplete() {
            open.remove(endable);
            super.onComplete();
          }
        };
      }
    };
    return () -> ServerInterceptors.intercept(health, tracked);
  }

  /**
   * {@code GET /api/healthz}: {@code {"status":"SERVING"}} with 200, or
   * {@code {"status":"NOT_SERVING","reasons":[...]}} with 503 — the body BanyanDB's gateway
   * answers, plus the reasons.
   */
  public HttpHandler healthzHandler() {
    ObjectMapper mapper = new ObjectMapper();
    return ex -> {
      try (ex) {
        String method = ex.getRequestMethod();
        Map<String, Object> body = new LinkedHashMap<>();
        int code;
        if (!"GET".equals(method) && !"HEAD".equals(method)) {
          ex.getResponseHeaders().set("Allow", "GET, HEAD");
          code = 405;
          body.put("code", 12);
          body.put("message", "method " + method + " not allowed; use GET");
          body.put("details", List.of());
        } else if (!"/api/healthz".equals(ex.getRequestURI().getPath())) {
          code = 404;
          body.put("code", 5);
          body.put("message", "no such route: " + ex.getRequestURI().getRawPath());
          body.put("details", List.of());
        } else {
          Readiness s = check();
          code = s.serving() ? 200 : 503;
          body.put("status", s.grpcStatus().name());
          if (!s.serving()) {
            body.put("reasons", s.reasons());
          }
        }
        byte[] bytes = (mapper.writeValueAsString(body) + "\n").getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        if ("HEAD".equals(method)) {
          ex.sendResponseHeaders(code, -1);
          return;
        }
        ex.sendResponseHeaders(code, bytes.length);
        ex.getResponseBody().write(bytes);
      }
    };
  }

  /** NOT_SERVING from now on, and Watch streams told so. */
  @Override
  public void close() {
    closed = true;
    refresher.close();
    manager.enterTerminalState();
    for (EndableCall<?, ?> call : open) {
      call.end(SHUTTING_DOWN);
      open.remove(call);
    }
  }
}
