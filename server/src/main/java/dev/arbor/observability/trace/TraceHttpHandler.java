package dev.arbor.observability.trace;

import dev.arbor.api.repair.v1.TracesRequest;
import dev.arbor.config.Durations;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.runtime.WallClock;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * {@code GET /repair/traces?group=G&since=1h&trace=ID&limit=N&cluster=true}: the spans as JSON
 * (see {@link SpanJson}). Every parameter is optional: no {@code since} means the whole
 * retention, {@code cluster=true} also asks the other data nodes. A bad parameter is an
 * {@link InvalidArgumentException} naming it, which the HTTP layer answers with 400.
 *
 * <p>Register with {@code httpEndpoints.addJsonRoute(TraceHttpHandler.PATH, handler)}.
 */
public final class TraceHttpHandler implements Function<Map<String, String>, String> {
  public static final String PATH = "/repair/traces";

  private static final Set<String> PARAMETERS = Set.of("group", "since", "trace", "limit", "cluster");

  private final TraceQuery query;
  private final WallClock clock;
  private final SpanJson json = new SpanJson();

  public TraceHttpHandler(TraceQuery query, Clock clock) {
    this(query, () -> {
      java.time.Instant i = clock.instant();
      return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    });
  }

  /** @param clock the node runtime's wall clock ("since" is counted back from it) */
  public TraceHttpHandler(TraceQuery query, WallClock clock) {
    this.query = query;
    this.clock = clock;
  }

  @Override
  public String apply(Map<String, String> params) {
    for (String name : params.keySet()) {
      if (!PARAMETERS.contains(name)) {
        // A typo (grup=) would otherwise silently widen the answer.
        throw new InvalidArgumentException(
            "unknown parameter '" + name + "' (known: group, since, trace, limit, cluster)");
      }
    }
    TracesRequest.Builder req = TracesRequest.newBuilder()
        .setGroup(params.getOrDefault("group", ""))
        .setTraceId(params.getOrDefault("trace", ""))
        .setClusterWide(cluster(params.get("cluster")));
    if (params.containsKey("since")) {
      req.setSinceUnixMs(sinceUnixMs(params.get("since")));
    }
    if (params.containsKey("limit")) {
      req.setLimit(limit(params.get("limit")));
    }
    return json.render(query.query(req.build()));
  }

  private long sinceUnixMs(String value) {
    Duration d;
    long ms;
    try {
      d = Durations.parse(value).orElse(null);
      ms = d == null ? 0 : d.toMillis();
    } catch (ArithmeticException | NumberFormatException tooLarge) {
      throw new InvalidArgumentException("since: '" + value + "' is too large");
    }
    if (d == null) {
      throw new InvalidArgumentException("since: '" + value + "' is not a duration (examples: 30m, 1h, 3d)");
    }
    if (d.isNegative()) {
      throw new InvalidArgumentException("since must not be negative, got '" + value + "'");
    }
    return Math.max(0, clock.millis() - ms);
  }

  private static int limit(String value) {
    try {
      int n = Integer.parseInt(value.trim());
      if (n >= 1 && n <= TraceQuery.MAX_LIMIT) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new InvalidArgumentException(
        "limit must be an integer in [1, " + TraceQuery.MAX_LIMIT + "], got '" + value + "'");
  }

  private static boolean cluster(String value) {
    if (value == null || value.equalsIgnoreCase("false")) {
      return false;
    }
    // A bare "?cluster" reads as asking for it.
    if (value.isEmpty() || value.equalsIgnoreCase("true")) {
      return true;
    }
    throw new InvalidArgumentException("cluster must be true or false, got '" + value + "'");
  }
}
