package dev.arbor.transport;

import io.grpc.netty.shaded.io.netty.handler.ssl.OpenSsl;

/**
 * Which TLS implementation the gRPC ports and channels run on. grpc-java's Netty transport takes
 * BoringSSL (netty-tcnative, shipped inside grpc-netty-shaded for Linux, macOS and Windows on
 * x86-64 and ARM64) whenever its native library loads, and the JDK's engine otherwise; the JDK's
 * costs several times the CPU per byte, which shows in bulk repair transfers. The reloading key and
 * trust managers of {@link TlsMaterial} work with both, so nothing here forces the JDK's. The HTTP
 * port (the JDK's HTTP server) always uses the JDK's engine.
 *
 * @param openSsl whether BoringSSL/OpenSSL is used
 * @param description the engine, and when it is the JDK's, why the native one is not
 */
public record TlsEngine(boolean openSsl, String description) {
  /** The engine the gRPC transport picks in this process. */
  public static TlsEngine detect() {
    if (OpenSsl.isAvailable()) {
      return new TlsEngine(true, OpenSsl.versionString() + " (netty-tcnative)");
    }
    Throwable cause = OpenSsl.unavailabilityCause();
    return new TlsEngine(false, "the JDK's, because netty-tcnative did not load: "
        + (cause == null ? "no reason given" : cause.getClass().getSimpleName() + ": " + cause.getMessage()));
  }

  /** Whether this platform is one grpc-netty-shaded ships netty-tcnative for (where falling back is a fault). */
  public static boolean nativeShipped() {
    String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
    String arch = System.getProperty("os.arch", "");
    boolean knownOs = os.startsWith("linux") || os.startsWith("mac") || os.startsWith("windows");
    boolean knownArch = arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64");
    return knownOs && knownArch && !(os.startsWith("windows") && arch.equals("aarch64"));
  }
}
