/**
 * Real processes for the integration tests and the benchmarks, started one way: an {@code arbor}
 * role from a server jar ({@link dev.arbor.harness.ArborServer}), a real single-member etcd
 * ({@link dev.arbor.harness.EtcdServer}) and a cluster of them ({@link
 * dev.arbor.harness.ClusterOfProcesses}). JDK only; every wait is a bounded poll that fails with
 * the process's log tail ({@link dev.arbor.harness.HarnessException}).
 */
package dev.arbor.harness;
