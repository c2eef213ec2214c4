package dev.arbor.server;

import dev.arbor.metadata.MetadataStore;
import dev.arbor.metadata.NodeRegistry;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What keeps a cluster node from taking traffic on the metadata side: the metadata store or the
 * node registry unreachable, this node's registration lost. Both usually share one etcd, so a
 * reason they both give is reported once.
 */
final class MetadataReadiness {
  private MetadataReadiness() {}

  static List<String> problems(MetadataStore metadata, NodeRegistry registry) {
    Set<String> out = new LinkedHashSet<>(metadata.readinessProblems());
    for (String r : registry.readinessProblems()) {
      // The same etcd named twice says nothing new.
      if (!r.contains(" is unreachable") || out.stream().noneMatch(o -> o.contains(" is unreachable"))) {
        out.add(r);
      }
    }
    return new ArrayList<>(out);
  }
}
