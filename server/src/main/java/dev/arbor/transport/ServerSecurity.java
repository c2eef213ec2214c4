package dev.arbor.transport;

import com.sun.net.httpserver.Authenticator;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Function;
import javax.net.ssl.SSLParameters;

/**
 * The security of one listener pair (gRPC and HTTP): TLS or plaintext, and the users and roles
 * calls are checked against, or none. Built once by a composition root; closing it stops the
 * watchers that reload certificates and users.
 *
 * @param tls key material, or null for plaintext
 * @param users who may call, or null to let anyone call
 * @param requiredRole the role each gRPC method needs (by full method name); null when no gRPC
 *     method is checked against users (a data node's internal listener, whose callers are nodes)
 * @param httpAuth which HTTP routes need credentials (only with users)
 */
public record ServerSecurity(TlsMaterial tls, UserDirectory users, Function<String, Role> requiredRole,
    HttpAuth httpAuth) implements AutoCloseable {
  public static final ServerSecurity NONE = new ServerSecurity(null, null, m -> Role.READ, HttpAuth.NONE);

  public ServerCredentials grpcCredentials() {
    return tls == null ? InsecureServerCredentials.create() : tls.grpcCredentials();
  }

  /** Interceptors to run before a call reaches its service (authentication and roles). */
  public List<ServerInterceptor> interceptors() {
    return users == null || requiredRole == null ? List.of() : List.of(new AuthInterceptor(users, requiredRole));
  }

  /** Binds the HTTP port: HTTPS with the same certificate as gRPC when TLS is on. */
  public HttpServer bindHttp(String host, int port, int backlog) throws IOException {
    InetSocketAddress address = new InetSocketAddress(host, port);
    if (tls == null) {
      return HttpServer.create(address, backlog);
    }
    HttpsServer https = HttpsServer.create(address, backlog);
    boolean needClientCert = tls.config().requiresClientCertificate();
    https.setHttpsConfigurator(new HttpsConfigurator(tls.sslContext()) {
      @Override
      public void configure(HttpsParameters params) {
        SSLParameters p = getSSLContext().getDefaultSSLParameters();
        p.setNeedClientAuth(needClientCert);
        params.setSSLParameters(p);
      }
    });
    return https;
  }

  /** The authenticator of an HTTP route, or null when the route is open. */
  public Authenticator httpAuthenticator(String path) {
    return users != null && httpAuth.protects(path) ? HttpAuth.authenticator(users) : null;
  }

  @Override
  public void close() {
    if (tls != null) {
      tls.close();
    }
    if (users != null) {
      users.close();
    }
  }
}
