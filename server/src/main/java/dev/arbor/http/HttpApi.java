package dev.arbor.http;

import dev.arbor.runtime.NodeRuntime;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API under {@code /api/}: a request is matched to its {@link ApiRoute}, its JSON body
 * and path become the request message (protobuf's JSON mapping), and the call runs through the
 * gRPC method's server handler in-process ({@link InProcessCall}) — the same interceptors
 * (authentication and roles, call limits, metrics) and the same service as a gRPC call. The
 * reply is printed as JSON; a failure is {@code {"code": <gRPC code>, "message": ..., "details":
 * []}} with the HTTP status grpc-gateway uses for that code.
 *
 * <p>HTTP basic-auth credentials become the {@code username}/{@code password} metadata the gRPC
 * port authenticates, and {@code Grpc-Metadata-<name>} headers become metadata {@code <name>},
 * as grpc-gateway forwards them.
 *
 * <p>Calls run on a small bounded pool of their own; a burst beyond it is answered 429 rather
 * than queued without end, and {@code /health} and {@code /metrics} never wait behind it.
 */
public final class HttpApi implements HttpHandler, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);
  private static final String JSON = "application/json";
  private static final Metadata.Key<String> USERNAME = Metadata.Key.of("username", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> PASSWORD = Metadata.Key.of("password", Metadata.ASCII_STRING_MARSHALLER);
  private static final String FORWARDED_PREFIX = "grpc-metadata-";

  private final List<ApiRoute> routes;
  private final Map<String, ServerMethodDefinition<?, ?>> methods = new HashMap<>();
  private final long maxBodyBytes;
  private final HttpApiLimits limits;
  private final java.util.concurrent.ExecutorService pool;
  /** Set when the node starts draining: new requests are refused, those in flight finish. */
  private volatile boolean draining;
  private final ObjectMapper mapper = new ObjectMapper();
  /**
   * grpc-gateway's default mapping: unknown fields are ignored (BanyanDB's messages have fields
   * Arbor's lack: a bydbctl group with a TTL still works), every field is printed, zero values
   * too, with lowerCamelCase names. Unlike grpc-gateway, an unknown enum name is refused: a
   * misspelt STRATEGY_REPLACE must not merge silently.
   */
  private final JsonFormat.Parser strict = JsonFormat.parser();
  private final JsonFormat.Parser lenient = JsonFormat.parser().ignoringUnknownFields();
  private final JsonFormat.Printer printer =
      JsonFormat.printer().alwaysPrintFieldsWithNoPresence().omittingInsignificantWhitespace();

  /**
   * @param services the gRPC port's service definitions, interceptors included
   * @param maxBodyBytes the largest request body accepted (413 beyond)
   */
  public HttpApi(List<ServerServiceDefinition> services, List<ApiRoute> routes, long maxBodyBytes) {
    this(services, routes, new HttpApiLimits(maxBodyBytes, HttpApiLimits.DEFAULTS.threads(),
        HttpApiLimits.DEFAULTS.queue()));
  }

  /**
   * @param services the gRPC port's service definitions, interceptors included
   * @param limits the body cap and the pool's threads and queue
   */
  public HttpApi(List<ServerServiceDefinition> services, List<ApiRoute> routes, HttpApiLimits limits) {
    this(NodeRuntime.system(), services, routes, limits);
  }

  /** As above, its pool ({@code arbor-http-api-N}) made by the node's runtime. */
  public HttpApi(NodeRuntime runtime, List<ServerServiceDefinition> services, List<ApiRoute> routes,
      HttpApiLimits limits) {
    this.routes = List.copyOf(routes);
    this.limits = limits;
    this.maxBodyBytes = limits.maxBodyBytes();
    for (ServerServiceDefinition s : services) {
      for (ServerMethodDefinition<?, ?> m : s.getMethods()) {
        methods.put(m.getMethodDescriptor().getFullMethodName(), m);
      }
    }
    // A zero-length queue hands over or refuses: no request waits.
    pool = runtime.newExecutor("arbor-http-api", limits.threads(), limits.queue());
  }

  /** A failure answered before any service ran: the gRPC code it stands for, and why. */
  private static final class Refusal extends Exception {
    final Status.Code code;
    final int httpStatus;

    Refusal(Status.Code code, int httpStatus, String message) {
      super(message, null, false, false);
      this.code = code;
      this.httpStatus = httpStatus;
    }

    static Refusal badRequest(String message) {
      return new Refusal(Status.Code.INVALID_ARGUMENT, 400, message);
    }
  }

  @Override
  public void handle(HttpExchange ex) throws IOException {
    if (draining) {
      refuseDraining(ex);
      return;
    }
    try {
      pool.execute(() -> serve(ex));
    } catch (RejectedExecutionException busy) {
      if (draining) {
        refuseDraining(ex);
        return;
      }
      ex.getResponseHeaders().set("Retry-After", "1");
      sendError(ex, 429, Status.Code.RESOURCE_EXHAUSTED, "server busy: " + limits.threads()
          + " HTTP API requests are running and " + limits.queue() + " waiting (--http-api-threads,"
          + " --http-api-queue); retry with backoff");
    }
  }

  /**
   * 503 UNAVAILABLE, as the gRPC port answers once it drains: the client should go to another
   * node (its request did not run).
   */
  private void refuseDraining(HttpExchange ex) throws IOException {
    drainBody(ex);
    ex.getResponseHeaders().set("Connection", "close");
    sendError(ex, 503, Status.Code.UNAVAILABLE,
        "the node is shutting down and takes no new requests; retry on another node");
  }

  /** Reads and drops a small body, so that closing the socket does not reset it before the answer. */
  private void drainBody(HttpExchange ex) {
    try (InputStream in = ex.getRequestBody()) {
      byte[] sink = new byte[64 * 1024];
      long left = Math.min(maxBodyBytes, 1L << 20);
      int n;
      while (left > 0 && (n = in.read(sink, 0, (int) Math.min(sink.length, left))) > 0) {
        left -= n;
      }
    } catch (IOException e) {
      // The answer is still sent; the client may see a reset instead.
    }
  }

  /**
   * Stops taking new requests (each answered 503) while those already accepted run to their end;
   * called when the node starts its graceful drain, before the gRPC port stops taking calls.
   */
  public void drain() {
    draining = true;
  }

  /** Waits up to {@code timeout} for the requests accepted before {@link #drain} to finish. */
  public boolean awaitDrained(java.time.Duration timeout) throws InterruptedException {
    pool.shutdown();
    return pool.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void serve(HttpExchange ex) {
    try {
      dispatch(ex);
    } catch (Refusal r) {
      sendErrorQuietly(ex, r.httpStatus, r.code, r.getMessage());
    } catch (RuntimeException e) {
      LOG.warn("{} {} failed", ex.getRequestMethod(), ex.getRequestURI().getRawPath(), e);
      sendErrorQuietly(ex, 500, Status.Code.INTERNAL, "internal error; see the server log");
    }
  }

  private void dispatch(HttpExchange ex) throws Refusal {
    String method = ex.getRequestMethod().toUpperCase(Locale.ROOT);
    boolean head = "HEAD".equals(method);
    List<String> segments = segments(ex.getRequestURI().getRawPath());
    Optional<GatewayRoutes.Match> match = GatewayRoutes.find(routes, head ? "GET" : method, segments);
    if (match.isEmpty()) {
      List<String> allowed = GatewayRoutes.methodsFor(routes, segments);
      if (allowed.isEmpty()) {
        throw new Refusal(Status.Code.NOT_FOUND, 404, "no such route: " + ex.getRequestURI().getRawPath()
            + " (the HTTP API is described in docs/http-api.md)");
      }
      ex.getResponseHeaders().set("Allow", String.join(", ", allowed));
      throw new Refusal(Status.Code.UNIMPLEMENTED, 405, "method " + method + " not allowed on "
          + ex.getRequestURI().getRawPath() + "; use " + String.join(" or ", allowed));
    }
    ApiRoute route = match.get().route();
    ServerMethodDefinition<?, ?> definition = methods.get(route.grpcMethod());
    if (definition == null) {
      throw new Refusal(Status.Code.UNIMPLEMENTED, 501, route.grpcMethod() + " is not served by this node");
    }
    Message request = request(ex, route, match.get().fields(), definition.getMethodDescriptor());
    Metadata headers = metadata(ex);
    boolean sentCredentials = headers.containsKey(USERNAME);
    invoke(ex, definition, request, headers, head, sentCredentials);
  }

  @SuppressWarnings("unchecked")
  private <Q, R> void invoke(HttpExchange ex, ServerMethodDefinition<Q, R> definition, Message request,
      Metadata headers, boolean head, boolean sentCredentials) {
    InProcessCall.start(definition, (Q) request, headers, ex.getRemoteAddress(), this::runOrInline)
        .whenCompleteAsync((outcome, failure) -> {
          if (failure != null) {
            LOG.warn("{} failed", definition.getMethodDescriptor().getFullMethodName(), failure);
            sendErrorQuietly(ex, 500, Status.Code.INTERNAL, "internal error; see the server log");
            return;
          }
          Status status = outcome.status();
          if (!status.isOk()) {
            String message = status.getDescription() == null ? status.getCode().name() : status.getDescription();
            if (status.getCode() == Status.Code.UNAUTHENTICATED) {
              ex.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"arbor\", charset=\"UTF-8\"");
              if (!sentCredentials) {
                message = "authentication required: send HTTP basic-auth credentials (curl -u user:password)";
              }
            }
            sendErrorQuietly(ex, GatewayStatus.httpStatus(status.getCode()), status.getCode(), message);
            return;
          }
          try {
            send(ex, 200, head ? null : printer.print((Message) outcome.reply()));
          } catch (InvalidProtocolBufferException e) {
            LOG.warn("cannot print the reply of {} as JSON", definition.getMethodDescriptor().getFullMethodName(), e);
            sendErrorQuietly(ex, 500, Status.Code.INTERNAL, "internal error: the reply cannot be printed as JSON");
          } catch (IOException e) {
            LOG.debug("the answer could not be sent ({})", e.toString());
            ex.close();
          }
        }, this::runOrInline);
  }

  /** Sends on the pool; when it is full (or closed) the completing thread sends: an answer is owed. */
  private void runOrInline(Runnable r) {
    try {
      pool.execute(r);
    } catch (RejectedExecutionException e) {
      r.run();
    }
  }

  private static List<String> segments(String rawPath) throws Refusal {
    List<String> out = new ArrayList<>();
    String p = rawPath.startsWith("/") ? rawPath.substring(1) : rawPath;
    for (String s : p.split("/", -1)) {
      try {
        // A path segment: '+' is a plus, not a space.
        out.add(URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        throw Refusal.badRequest("malformed path segment '" + s + "': " + e.getMessage());
      }
    }
    return out;
  }

  private Message request(HttpExchange ex, ApiRoute route, Map<String, String> pathFields,
      MethodDescriptor<?, ?> method) throws Refusal {
    if (!(method.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<?> pm)
        || !(pm.getMessagePrototype() instanceof Message prototype)) {
      throw new Refusal(Status.Code.UNIMPLEMENTED, 501, method.getFullMethodName() + " has no JSON mapping");
    }
    Message.Builder builder = prototype.newBuilderForType();
    if (route.body()) {
      String body = body(ex);
      if (!body.isBlank()) {
        try {
          parseBody(body, builder);
        } catch (InvalidProtocolBufferException e) {
          throw Refusal.badRequest("malformed JSON body for " + prototype.getDescriptorForType().getName() + ": "
              + e.getMessage());
        } catch (RuntimeException e) {
          // The parser throws unchecked exceptions on some malformed input (a number out of range).
          throw Refusal.badRequest("malformed JSON body for " + prototype.getDescriptorForType().getName() + ": "
              + e.getMessage());
        }
      }
    } else {
      for (Map.Entry<String, List<String>> q : queryParameters(ex.getRequestURI().getRawQuery()).entrySet()) {
        for (String v : q.getValue()) {
          setField(builder, q.getKey(), v, "query parameter");
        }
      }
    }
    // Path variables win over the body, as in grpc-gateway.
    for (Map.Entry<String, String> f : pathFields.entrySet()) {
      setField(builder, f.getKey(), f.getValue(), "path");
    }
    return builder.build();
  }

  private void parseBody(String body, Message.Builder builder) throws InvalidProtocolBufferException {
    try {
      strict.merge(body, builder);
    } catch (InvalidProtocolBufferException e) {
      if (e.getMessage() == null || !e.getMessage().startsWith("Cannot find field")) {
        throw e;
      }
      builder.clear();
      lenient.merge(body, builder);
    }
  }

  private String body(HttpExchange ex) throws Refusal {
    String declared = ex.getRequestHeaders().getFirst("Content-Length");
    long length = -1;
    if (declared != null) {
      try {
        length = Long.parseLong(declared.trim());
      } catch (NumberFormatException e) {
        throw Refusal.badRequest("malformed Content-Length '" + declared + "'");
      }
    }
    try (InputStream in = ex.getRequestBody()) {
      if (length > maxBodyBytes) {
        throw tooLarge(in);
      }
      byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBodyBytes + 1));
      if (bytes.length > maxBodyBytes) {
        throw tooLarge(in);
      }
      return new String(bytes, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw Refusal.badRequest("cannot read the request body: " + e.getMessage());
    }
  }

  /**
   * The refusal of a body over the cap. The rest of the body is read and dropped first (up to a
   * bound): a socket closed with unread input is reset, and the client would lose the answer.
   */
  private Refusal tooLarge(InputStream in) throws IOException {
    long left = 4 * maxBodyBytes;
    byte[] sink = new byte[64 * 1024];
    int n;
    while (left > 0 && (n = in.read(sink, 0, (int) Math.min(sink.length, left))) > 0) {
      left -= n;
    }
    return tooLarge();
  }

  private Refusal tooLarge() {
    return new Refusal(Status.Code.RESOURCE_EXHAUSTED, 413, "request body larger than " + maxBodyBytes
        + " bytes (--http-api-max-body-bytes)");
  }

  private static Map<String, List<String>> queryParameters(String rawQuery) throws Refusal {
    Map<String, List<String>> params = new LinkedHashMap<>();
    if (rawQuery == null || rawQuery.isEmpty()) {
      return params;
    }
    for (String pair : rawQuery.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      try {
        String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        String value = URLDecoder.decode(eq < 0 ? "" : pair.substring(eq + 1), StandardCharsets.UTF_8);
        params.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
      } catch (IllegalArgumentException e) {
        throw Refusal.badRequest("malformed query parameter '" + pair + "': " + e.getMessage());
      }
    }
    return params;
  }

  /** Sets the scalar field at a dotted path ({@code metadata.group}), by proto or JSON field names. */
  static void setField(Message.Builder builder, String path, String value, String source) throws Refusal {
    String[] parts = path.split("\\.");
    Message.Builder current = builder;
    for (int i = 0; i < parts.length; i++) {
      FieldDescriptor fd = field(current.getDescriptorForType(), parts[i]);
      if (fd == null) {
        throw Refusal.badRequest(source + " names unknown field '" + path + "' of "
            + builder.getDescriptorForType().getName());
      }
      if (i < parts.length - 1) {
        if (fd.getJavaType() != FieldDescriptor.JavaType.MESSAGE || fd.isRepeated()) {
          throw Refusal.badRequest(source + " field '" + path + "': '" + parts[i] + "' is not a message");
        }
        current = current.getFieldBuilder(fd);
        continue;
      }
      Object v = scalar(fd, value, path, source);
      if (fd.isRepeated()) {
        current.addRepeatedField(fd, v);
      } else {
        current.setField(fd, v);
      }
    }
  }

  private static FieldDescriptor field(Descriptor d, String name) {
    FieldDescriptor fd = d.findFieldByName(name);
    if (fd != null) {
      return fd;
    }
    for (FieldDescriptor f : d.getFields()) {
      if (f.getJsonName().equals(name)) {
        return f;
      }
    }
    return null;
  }

  private static Object scalar(FieldDescriptor fd, String value, String path, String source) throws Refusal {
    try {
      return switch (fd.getType()) {
        case STRING -> value;
        case BOOL -> switch (value) {
          case "true" -> true;
          case "false" -> false;
          default -> throw new IllegalArgumentException("expected true or false");
        };
        case INT32, SINT32, SFIXED32 -> Integer.parseInt(value);
        case UINT32, FIXED32 -> Integer.parseUnsignedInt(value);
        case INT64, SINT64, SFIXED64 -> Long.parseLong(value);
        case UINT64, FIXED64 -> Long.parseUnsignedLong(value);
        case FLOAT -> Float.parseFloat(value);
        case DOUBLE -> Double.parseDouble(value);
        case BYTES -> ByteString.copyFrom(Base64.getDecoder().decode(value));
        case ENUM -> {
          EnumValueDescriptor e = fd.getEnumType().findValueByName(value);
          if (e == null) {
            e = fd.getEnumType().findValueByNumber(Integer.parseInt(value));
          }
          if (e == null) {
            throw new IllegalArgumentException("not a value of " + fd.getEnumType().getName());
          }
          yield e;
        }
        case MESSAGE, GROUP -> throw new IllegalArgumentException("a message cannot be given here");
      };
    } catch (IllegalArgumentException e) {
      throw Refusal.badRequest(source + " field '" + path + "' = '" + value + "': " + e.getMessage());
    }
  }

  private static Metadata metadata(HttpExchange ex) throws Refusal {
    Metadata md = new Metadata();
    for (Map.Entry<String, List<String>> h : ex.getRequestHeaders().entrySet()) {
      String name = h.getKey().toLowerCase(Locale.ROOT);
      if (name.startsWith(FORWARDED_PREFIX) && name.length() > FORWARDED_PREFIX.length()
          && !name.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
        Metadata.Key<String> key;
        try {
          key = Metadata.Key.of(name.substring(FORWARDED_PREFIX.length()), Metadata.ASCII_STRING_MARSHALLER);
        } catch (IllegalArgumentException e) {
          throw Refusal.badRequest("header " + h.getKey() + " does not name valid metadata: " + e.getMessage());
        }
        for (String v : h.getValue()) {
          md.put(key, v);
        }
      }
    }
    String auth = ex.getRequestHeaders().getFirst("Authorization");
    if (auth != null && auth.regionMatches(true, 0, "Basic ", 0, 6)) {
      String decoded;
      try {
        decoded = new String(Base64.getDecoder().decode(auth.substring(6).trim()), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        decoded = "";
      }
      int colon = decoded.indexOf(':');
      // Malformed credentials are sent as no credentials: the call is refused UNAUTHENTICATED.
      md.removeAll(USERNAME);
      md.removeAll(PASSWORD);
      if (colon > 0) {
        md.put(USERNAME, decoded.substring(0, colon));
        md.put(PASSWORD, decoded.substring(colon + 1));
      }
    }
    return md;
  }

  private void sendErrorQuietly(HttpExchange ex, int httpStatus, Status.Code code, String message) {
    try {
      sendError(ex, httpStatus, code, message);
    } catch (IOException | RuntimeException e) {
      LOG.debug("the error answer could not be sent ({})", e.toString());
      ex.close();
    }
  }

  private void sendError(HttpExchange ex, int httpStatus, Status.Code code, String message) throws IOException {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("code", code.value());
    body.put("message", message.replace('\n', ' '));
    body.put("details", List.of());
    String json;
    try {
      json = mapper.writeValueAsString(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render an error message", e);
    }
    send(ex, httpStatus, "HEAD".equalsIgnoreCase(ex.getRequestMethod()) ? null : json);
  }

  private static void send(HttpExchange ex, int httpStatus, String json) throws IOException {
    ex.getResponseHeaders().set("Content-Type", JSON);
    if (json == null) {
      ex.sendResponseHeaders(httpStatus, -1);
      ex.close();
      return;
    }
    byte[] bytes = (json + "\n").getBytes(StandardCharsets.UTF_8);
    ex.sendResponseHeaders(httpStatus, bytes.length);
    try (OutputStream os = ex.getResponseBody()) {
      os.write(bytes);
    }
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
