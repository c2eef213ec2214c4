/**
 * Repair trace spans: the span value, where spans are recorded (a Lucene store under the data
 * directory, with a retention) and how they are queried, locally and across the data nodes.
 * Knows nothing of how repair works; repair code only calls {@link SpanRecorder}.
 */
package dev.arbor.observability.trace;
