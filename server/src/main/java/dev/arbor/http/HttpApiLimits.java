package dev.arbor.http;

/**
 * Caps of the HTTP API, separate from the gRPC port's: its requests run on a pool of their own so
 * that a burst is answered 429 instead of queueing without end, and a body is read into memory
 * only up to a bound.
 *
 * @param maxBodyBytes the largest request body accepted; a larger one is answered 413
 * @param threads requests run at once
 * @param queue requests waiting for a thread; one more is answered 429
 */
public record HttpApiLimits(long maxBodyBytes, int threads, int queue) {
  /**
   * 16 MiB: far above a property at the default --max-property-bytes (1 MiB) in JSON, small enough
   * that the queue cannot hold gigabytes. Most of a call's time is the service's, which has its
   * own caps, so a few threads suffice.
   */
  public static final HttpApiLimits DEFAULTS = new HttpApiLimits(16L << 20, 8, 64);

  public HttpApiLimits {
    if (maxBodyBytes < 1) {
      throw new IllegalArgumentException("--http-api-max-body-bytes must be >= 1");
    }
    if (threads < 1) {
      throw new IllegalArgumentException("--http-api-threads must be >= 1");
    }
    if (queue < 0) {
      throw new IllegalArgumentException("--http-api-queue must be >= 0");
    }
  }
}
