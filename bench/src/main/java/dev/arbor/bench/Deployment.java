package dev.arbor.bench;

import java.util.Locale;

/** What the API benchmark starts for a build ({@code --deployment}). */
enum Deployment {
  /** {@code arbor standalone}: one process, no replication. */
  STANDALONE("standalone"),
  /** {@code arbor dev-cluster}: a liaison and N data nodes in one JVM, real gRPC between them. */
  DEV_CLUSTER("dev-cluster"),
  /** etcd, N {@code arbor data} JVMs and an {@code arbor liaison}: separate processes. */
  PROCESSES("processes");

  private final String name;

  Deployment(String name) {
    this.name = name;
  }

  String label() {
    return name;
  }

  boolean cluster() {
    return this != STANDALONE;
  }

  static Deployment parse(String s) {
    for (Deployment d : values()) {
      if (d.name.equals(s.trim().toLowerCase(Locale.ROOT))) {
        return d;
      }
    }
    throw new IllegalArgumentException("unknown deployment '" + s
        + "' (expected standalone, dev-cluster or processes)");
  }

  @Override
  public String toString() {
    return name;
  }
}
