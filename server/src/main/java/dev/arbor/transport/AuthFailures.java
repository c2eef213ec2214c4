package dev.arbor.transport;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Refused logins by reason, on gRPC and HTTP alike ({@code arbor_auth_failures_total{reason}}): a
 * burst of {@code unknown_user} or {@code wrong_password} is someone guessing, a steady
 * {@code missing} a client configured without credentials. The reason is never told to the
 * caller (both wrong cases answer the same), only counted here.
 */
public final class AuthFailures {
  /** Why a login was refused. */
  public enum Reason {
    /** No credentials sent (or not both of username and password). */
    MISSING,
    /** A username no configured user has. */
    UNKNOWN_USER,
    /** A known user with another password. */
    WRONG_PASSWORD;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final Map<Reason, LongAdder> counts = new EnumMap<>(Reason.class);

  public AuthFailures() {
    for (Reason r : Reason.values()) {
      counts.put(r, new LongAdder());
    }
  }

  void record(Reason reason) {
    counts.get(reason).increment();
  }

  /** Refusals for {@code reason} since start. */
  public long count(Reason reason) {
    return counts.get(reason).sum();
  }

  /** Exposes the counts as {@code arbor.auth.failures} tagged by reason. */
  public void register(MeterRegistry registry) {
    for (Reason r : Reason.values()) {
      FunctionCounter.builder("arbor.auth.failures", this, f -> f.count(r)).tag("reason", r.label())
          .description("logins refused (gRPC metadata or HTTP basic auth), by reason").register(registry);
    }
  }
}
