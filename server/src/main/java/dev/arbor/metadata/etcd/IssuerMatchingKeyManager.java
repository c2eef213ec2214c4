package dev.arbor.metadata.etcd;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Offers the client certificate of a reloadable key manager only to a server that names its
 * issuer among the CAs it accepts (or names none), as the JDK's own key managers do: a
 * certificate etcd would refuse is not sent, and etcd's refusal then says that a certificate is
 * required — a TLS alert the client reports — rather than closing the connection after the
 * handshake with no reason the client can show.
 */
final class IssuerMatchingKeyManager extends X509ExtendedKeyManager {
  private final X509ExtendedKeyManager delegate;

  IssuerMatchingKeyManager(X509ExtendedKeyManager delegate) {
    this.delegate = delegate;
  }

  private String ifIssuerAccepted(String alias, Principal[] issuers) {
    if (alias == null || issuers == null || issuers.length == 0) {
      return alias;
    }
    X509Certificate[] chain = delegate.getCertificateChain(alias);
    if (chain == null) {
      return null;
    }
    // Any certificate of the chain may be the one the server's CA list names (an intermediate's issuer too).
    for (X509Certificate c : chain) {
      if (Arrays.asList(issuers).contains(c.getIssuerX500Principal())) {
        return alias;
      }
    }
    return null;
  }

  @Override
  public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
    return ifIssuerAccepted(delegate.chooseEngineClientAlias(keyType, issuers, engine), issuers);
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return ifIssuerAccepted(delegate.chooseClientAlias(keyType, issuers, socket), issuers);
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return delegate.getClientAliases(keyType, issuers);
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return delegate.getServerAliases(keyType, issuers);
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return delegate.chooseServerAlias(keyType, issuers, socket);
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return delegate.chooseEngineServerAlias(keyType, issuers, engine);
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    return delegate.getCertificateChain(alias);
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    return delegate.getPrivateKey(alias);
  }
}
