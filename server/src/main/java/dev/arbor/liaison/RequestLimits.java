package dev.arbor.liaison;

/**
 * Limits on a single request; a request over a limit is rejected with INVALID_ARGUMENT naming the
 * limit, never truncated.
 *
 * @param maxPropertyBytes serialized size of one property (tags included)
 * @param maxTagsPerProperty tags in one property (and in one schema)
 * @param maxIdsPerQuery ids in one query request
 * @param maxQueryLimit largest {@code limit} a query may ask for
 */
public record RequestLimits(
    int maxPropertyBytes, int maxTagsPerProperty, int maxIdsPerQuery, int maxQueryLimit) {
  public static final RequestLimits DEFAULTS = new RequestLimits(1 << 20, 256, 1000, 10_000);
}
