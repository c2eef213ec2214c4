package dev.arbor.transport;

import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * Which node a certificate speaks for: the node id is the certificate's subject common name
 * ({@code CN=data-1}). The subject alternative names stay free for the host names and addresses
 * the node is reached at, which callers check as for any TLS server.
 */
public final class NodeIdentity {
  private NodeIdentity() {}

  /** The node id a certificate names, or empty when its subject has no common name. */
  public static Optional<String> of(X509Certificate cert) {
    try {
      LdapName name = new LdapName(cert.getSubjectX500Principal().getName());
      // The most specific CN is the last RDN of the list (RFC 2253 order is reversed).
      for (int i = name.size() - 1; i >= 0; i--) {
        Rdn rdn = name.getRdns().get(i);
        if (rdn.getType().equalsIgnoreCase("CN")) {
          return Optional.of(String.valueOf(rdn.getValue()));
        }
      }
      return Optional.empty();
    } catch (InvalidNameException e) {
      return Optional.empty();
    }
  }

  /**
   * A check for {@link TlsMaterial#load(ServerTls, TlsMaterial.Flags, java.util.function.Consumer)}:
   * the certificate must name {@code nodeId}.
   */
  public static java.util.function.Consumer<X509Certificate> requiring(String nodeId, String certFlag,
      java.nio.file.Path certFile) {
    return cert -> {
      String found = of(cert).orElse(null);
      if (!nodeId.equals(found)) {
        throw new IllegalArgumentException(certFlag + " " + certFile + " is for node "
            + (found == null ? "(no subject CN)" : "'" + found + "'") + ", not this node '" + nodeId
            + "': a node's certificate must carry its node id as subject CN");
      }
    };
  }
}
