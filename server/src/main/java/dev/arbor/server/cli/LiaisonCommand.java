package dev.arbor.server.cli;

import dev.arbor.cluster.WriteConsistency;
import dev.arbor.property.HybridClock;
import dev.arbor.server.LiaisonServer;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code arbor liaison}: the public BanyanDB API of a cluster, routing to the data nodes. */
@Command(
    name = "liaison",
    mixinStandardHelpOptions = true,
    description = "Run a liaison: the public API, replicating to data nodes found through etcd.")
public final class LiaisonCommand implements Callable<Integer> {
  @Mixin ListenOptions listen;
  @Mixin LimitOptions limits;
  @Mixin ReplicaCallOptions replicaCalls;
  @Mixin ClusterMetadata cluster;
  @Mixin SecurityOptions security;
  @Mixin InternalTlsOptions internalTls;

  @Option(names = "--node-id", paramLabel = "ID",
      description = "Id this liaison registers under (role liaison); data nodes accept internal calls only from"
          + " registered members, and with --internal-tls-* it must be the subject CN of the liaison's"
          + " certificate (default: liaison-<host name>-<process id>: a liaison keeps no state under its id, and a"
          + " restarted one need not wait for its previous registration to expire).")
  String nodeId;

  @Option(names = "--advertise-host", paramLabel = "HOST",
      description = "Host shown in the liaison's registration (default: the host name).")
  String advertiseHost;

  @Option(names = "--write-consistency", defaultValue = "one",
      description = "Replicas that must acknowledge an apply or delete: one, quorum or all (default: ${DEFAULT-VALUE}).")
  String consistency;

  @Option(names = "--node-timeout", defaultValue = "5s", converter = DurationConverter.class,
      description = "Deadline of each call to a data node (default: ${DEFAULT-VALUE}).")
  Duration nodeTimeout;

  @Option(names = "--read-repair-queue", defaultValue = "1024",
      description = "Bound of the query-time repair queue; a full queue drops repairs (default: ${DEFAULT-VALUE}).")
  int repairQueue;

  /** Fault injection for tests only (clock skew between liaisons); hidden from --help. */
  @Option(names = "--test-clock-offset", hidden = true, defaultValue = "0ms", converter = DurationConverter.class)
  Duration testClockOffset;

  private static String localHostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      return "localhost";
    }
  }

  @Override
  public Integer call() throws Exception {
    WriteConsistency level = WriteConsistency.parse(consistency);
    dev.arbor.liaison.ReplicaCallLimits fanOut = replicaCalls.limits();
    if (repairQueue <= 0) {
      throw new IllegalArgumentException("--read-repair-queue must be > 0");
    }
    dev.arbor.transport.SecurityConfig securityConfig = security.config();
    String host = localHostName();
    dev.arbor.server.LiaisonMembership membership = new dev.arbor.server.LiaisonMembership(
        nodeId != null ? nodeId : "liaison-" + host + "-" + ProcessHandle.current().pid(),
        advertiseHost != null ? advertiseHost : host, cluster.nodeTtl,
        internalTls.config(securityConfig.reloadInterval()));
    UntilSignal signal = new UntilSignal();
    // The liaison's one runtime (clocks, threads); the liaison owns and closes it.
    dev.arbor.runtime.NodeRuntime runtime = dev.arbor.runtime.NodeRuntime.system();
    long offset = testClockOffset.toNanos();
    try (ClusterMetadata meta = cluster) {
      meta.connect(new HybridClock(runtime.wallClock()::nanos), securityConfig.reloadInterval());
      try (LiaisonServer liaison = LiaisonServer.start(runtime, listen.host, listen.grpcPort, listen.httpPort,
          meta.store(), meta.registry(), limits.limits(), level, nodeTimeout, repairQueue,
          new HybridClock(() -> runtime.wallClock().nanos() + offset), listen.serverLimits(), fanOut, securityConfig, membership)) {
        ServingLine.print(System.out,
            "Arbor liaison serving gRPC on %s:%d, HTTP on %s:%d (%s; node id %s, to data nodes: %s)",
            listen.host, liaison.grpcPort(), listen.host, liaison.httpPort(), security.describe(),
            membership.nodeId(), membership.tls() == null ? "plaintext" : "mutual TLS");
        signal.await();
        System.out.println("Arbor liaison shutting down");
      }
    }
    return 0;
  }
}
