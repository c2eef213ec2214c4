package dev.arbor.metadata.etcd;

import dev.arbor.metadata.RegisteredNode;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * A node registration in a process of its own, so a test can freeze it (SIGSTOP) past its lease
 * as a stalled JVM would be, then resume it (SIGCONT). Prints {@code LEASE <id>} once registered
 * and closes the registry when its standard input ends.
 *
 * <p>Arguments: etcd endpoints (comma-separated), key prefix, node id, gRPC address, TTL seconds.
 */
public final class RegistryChild {
  static final String LEASE_LINE = "LEASE ";

  private RegistryChild() {}

  public static void main(String[] args) throws IOException {
    List<URI> endpoints = Arrays.stream(args[0].split(",")).map(URI::create).toList();
    try (EtcdNodeRegistry r = EtcdNodeRegistry.connect(endpoints, args[1], Duration.ofSeconds(5))) {
      r.register(RegisteredNode.of(args[2], args[3], Set.of("data")), Duration.ofSeconds(Long.parseLong(args[4])));
      System.out.println(LEASE_LINE + r.leaseId());
      System.out.flush();
      while (System.in.read() >= 0) {
        // runs until the test closes our standard input
      }
    }
  }
}
