package dev.arbor.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/** Free loopback ports for the processes the harness starts. */
public final class Ports {
  private Ports() {}

  /**
   * {@code n} distinct loopback ports nothing listens on right now (bound together, then
   * released: another process may still take one before ours binds it, which is why starts retry
   * on a bind failure).
   */
  public static int[] free(int n) {
    int[] ports = new int[n];
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        s.setReuseAddress(true);
        held.add(s);
        ports[i] = s.getLocalPort();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      for (ServerSocket s : held) {
        try {
          s.close();
        } catch (IOException ignored) {
          // best effort: the port is free either way once this JVM lets go of it
        }
      }
    }
    return ports;
  }
}
