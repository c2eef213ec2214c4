package dev.arbor.metadata.etcd;

import io.grpc.netty.GrpcSslContexts;
import io.grpc.util.CertificateUtils;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/**
 * The TLS context of the etcd client, read once from PEM files at start-up. jetcd runs on the
 * unshaded grpc-netty (not the grpc-netty-shaded the rest of Arbor uses), so this is a plain
 * {@code io.netty} {@link SslContext}. Errors name the flag and file, in one line.
 */
final class EtcdTls {
  private EtcdTls() {}

  static SslContext sslContext(EtcdClientConfig config) {
    SslContextBuilder b = GrpcSslContexts.forClient();
    if (config.caFile() != null) {
      b.trustManager(certificates(config.caFile(), "--etcd-ca-file"));
    }
    if (config.certFile() != null) {
      X509Certificate[] chain = certificates(config.certFile(), "--etcd-cert-file");
      PrivateKey key = privateKey(config.keyFile());
      if (!key.getAlgorithm().equals(chain[0].getPublicKey().getAlgorithm())) {
        throw new IllegalArgumentException("--etcd-key-file " + config.keyFile() + " is a " + key.getAlgorithm()
            + " key but the certificate in " + config.certFile() + " is for a "
            + chain[0].getPublicKey().getAlgorithm() + " key");
      }
      b.keyManager(key, chain);
    }
    try {
      return b.build();
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("cannot build the etcd TLS context: " + describe(e), e);
    }
  }

  private static X509Certificate[] certificates(Path file, String flag) {
    X509Certificate[] certs;
    byte[] pem = read(file, flag);
    try {
      certs = CertificateUtils.getX509Certificates(new ByteArrayInputStream(pem));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new IllegalArgumentException(flag + " " + file + " holds no PEM certificate: " + describe(e), e);
    }
    if (certs.length == 0) {
      throw new IllegalArgumentException(flag + " " + file + " holds no PEM certificate");
    }
    return certs;
  }

  private static PrivateKey privateKey(Path file) {
    byte[] pem = read(file, "--etcd-key-file");
    try {
      return CertificateUtils.getPrivateKey(new ByteArrayInputStream(pem));
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      throw new IllegalArgumentException("--etcd-key-file " + file
          + " holds no PEM PKCS#8 private key ('BEGIN PRIVATE KEY'; convert with openssl pkcs8 -topk8 -nocrypt): "
          + describe(e), e);
    }
  }

  private static byte[] read(Path file, String flag) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + flag + " " + file + ": " + describe(e), e);
    }
  }

  private static String describe(Exception e) {
    if (e instanceof NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
