/**
 * Real clusters of separate processes on loopback for the benchmarks (started by the shared
 * harness, {@code dev.arbor.harness.ClusterOfProcesses}): a single-member etcd, N
 * {@code arbor data} JVMs and an {@code arbor liaison}, started from a shaded server jar, with the
 * per-process CPU and memory figures read from {@code /proc}. Used by the repair benchmark and by
 * the API benchmark's {@code --deployment processes}.
 */
package dev.arbor.bench.cluster;
