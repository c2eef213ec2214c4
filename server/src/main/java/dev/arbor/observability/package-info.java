/**
 * Metrics (Micrometer, Prometheus text) and the HTTP endpoints {@code /health} and
 * {@code /metrics}. Observes other packages through their public getters; changes nothing.
 */
package dev.arbor.observability;
