package dev.arbor.transport;

import io.grpc.Metadata;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Optional;
import java.util.function.Function;

/**
 * Authenticates every call by the {@code username}/{@code password} metadata (what the official
 * BanyanDB client sends) and checks the user's role against what the method needs. A missing or
 * wrong credential is UNAUTHENTICATED; a role too small is PERMISSION_DENIED naming both.
 *
 * <p>The standard health service ({@code grpc.health.v1.Health}) needs no credentials: Kubernetes
 * probes and load balancers carry none, and it reveals only SERVING or NOT_SERVING.
 */
public final class AuthInterceptor implements ServerInterceptor {
  private final UserDirectory users;
  private final Function<String, Role> requiredRole;

  /** @param requiredRole the role a full method name ({@code package.Service/Method}) needs */
  public AuthInterceptor(UserDirectory users, Function<String, Role> requiredRole) {
    this.users = users;
    this.requiredRole = requiredRole;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    if (HealthGrpc.SERVICE_NAME.equals(call.getMethodDescriptor().getServiceName())) {
      return next.startCall(call, headers);
    }
    String user = headers.get(ChannelFactory.USERNAME);
    String password = headers.get(ChannelFactory.PASSWORD);
    if (user == null || password == null) {
      users.missingCredentials();
      return refuse(call, Status.UNAUTHENTICATED.withDescription(
          "authentication required: send the username and password metadata (client --user)"));
    }
    Optional<Role> role = users.authenticate(user, password);
    if (role.isEmpty()) {
      return refuse(call, Status.UNAUTHENTICATED.withDescription("wrong username or password"));
    }
    String method = call.getMethodDescriptor().getFullMethodName();
    Role needed = requiredRole.apply(method);
    if (!role.get().includes(needed)) {
      return refuse(call, Status.PERMISSION_DENIED.withDescription("user '" + BoundedDescriptions.bounded(user)
          + "' has role " + role.get().label() + "; " + method + " needs " + needed.label()));
    }
    return next.startCall(call, headers);
  }

  private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status) {
    call.close(status, new Metadata());
    return new ServerCall.Listener<>() {};
  }
}
