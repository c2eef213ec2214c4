package dev.arbor.transport;

import io.grpc.BindableService;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import java.util.Set;

/** A service reduced to some of its methods (a listener that must not serve the others). */
public final class MethodSubset {
  private MethodSubset() {}

  /**
   * @param methods full method names ({@code package.Service/Method}) to keep; every one must
   *     exist in the service
   */
  public static BindableService of(BindableService service, Set<String> methods) {
    ServerServiceDefinition all = service.bindService();
    ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(all.getServiceDescriptor().getName());
    int kept = 0;
    for (ServerMethodDefinition<?, ?> m : all.getMethods()) {
      if (methods.contains(m.getMethodDescriptor().getFullMethodName())) {
        b.addMethod(m);
        kept++;
      }
    }
    if (kept != methods.size()) {
      throw new IllegalArgumentException("not all of " + methods + " are methods of "
          + all.getServiceDescriptor().getName());
    }
    ServerServiceDefinition subset = b.build();
    return () -> subset;
  }
}
