package dev.arbor.transport;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificates made on the spot for tests (no key material is committed): a CA, and leaf
 * certificates it signs, written as PEM files (certificate chain, PKCS#8 key) the way an operator
 * would hand them to Arbor. Leaves name {@code localhost} and {@code 127.0.0.1} unless issued for
 * another host.
 */
public final class TestPki {
  private static final AtomicLong SERIAL = new AtomicLong(System.nanoTime());

  private final String name;
  private final KeyPair caKeys;
  private final X509Certificate caCert;

  private TestPki(String name, KeyPair caKeys, X509Certificate caCert) {
    this.name = name;
    this.caKeys = caKeys;
    this.caCert = caCert;
  }

  /** A fresh CA called {@code name}. */
  public static TestPki newCa(String name) {
    KeyPair keys = keyPair();
    X500Name subject = new X500Name("CN=" + name);
    try {
      X509v3CertificateBuilder b = builder(subject, subject, keys);
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      return new TestPki(name, keys, sign(b, keys.getPrivate()));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A certificate/key pair this CA signed. */
  public record Leaf(Path certFile, Path keyFile, X509Certificate cert) {}

  /** Writes the CA certificate to {@code file} (what clients trust). */
  public Path writeCa(Path file) throws IOException {
    Files.writeString(file, pem("CERTIFICATE", encoded(caCert)), StandardCharsets.UTF_8);
    return file;
  }

  /**
   * Issues a leaf for {@code cn} (server and client use) into {@code dir/<prefix>.crt|.key}, for
   * the host names {@code localhost} and the loopback address.
   */
  public Leaf issue(String cn, Path dir, String prefix) throws IOException {
    return issue(cn, dir, prefix, new GeneralName[] {new GeneralName(GeneralName.dNSName, "localhost"),
        new GeneralName(GeneralName.iPAddress, InetAddress.getLoopbackAddress().getHostAddress())});
  }

  /** As {@link #issue(String, Path, String)}, valid only for the DNS name {@code host} (not loopback). */
  public Leaf issueForHost(String cn, String host, Path dir, String prefix) throws IOException {
    return issue(cn, dir, prefix, new GeneralName[] {new GeneralName(GeneralName.dNSName, host)});
  }

  private Leaf issue(String cn, Path dir, String prefix, GeneralName[] subjectAltNames) throws IOException {
    KeyPair keys = keyPair();
    X509v3CertificateBuilder b = builder(new X500Name("CN=" + name), new X500Name("CN=" + cn), keys);
    b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(subjectAltNames));
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    X509Certificate cert = sign(b, caKeys.getPrivate());
    Path certFile = dir.resolve(prefix + ".crt");
    Path keyFile = dir.resolve(prefix + ".key");
    // Written next to the target and moved into place, as a renewal tool would, so a reloader
    // never reads half a file.
    writeAtomically(certFile, pem("CERTIFICATE", encoded(cert)));
    writeAtomically(keyFile, pem("PRIVATE KEY", keys.getPrivate().getEncoded()));
    return new Leaf(certFile, keyFile, cert);
  }

  private static void writeAtomically(Path file, String content) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, content, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys) {
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.incrementAndGet()),
        Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(2))), subject,
        keys.getPublic());
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key) {
    try {
      ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(key);
      return new JcaX509CertificateConverter().getCertificate(b.build(signer));
    } catch (Exception e) {
      throw new IllegalStateException("cannot sign a test certificate", e);
    }
  }

  private static KeyPair keyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(256, new SecureRandom());
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] encoded(X509Certificate c) {
    try {
      return c.getEncoded();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(der) + "\n-----END " + type + "-----\n";
  }
}
