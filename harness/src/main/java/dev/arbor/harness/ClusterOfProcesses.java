package dev.arbor.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A real cluster on loopback, each part its own process: one etcd, N {@code arbor data} nodes
 * (each in {@code <work>/<id>}) and any number of {@code arbor liaison}s. Data nodes start in
 * parallel and count as up once registered, so the liaisons started next see every one.
 * Optionally TLS everywhere but etcd, with certificates of one CA (see {@link Builder#tls}).
 *
 * <p>{@link #stop()} ends it in order: liaisons first (no new client calls reach the data
 * nodes), then the data nodes in parallel (each drains and commits), then etcd.
 */
public final class ClusterOfProcesses implements AutoCloseable {
  private final Path workDir;
  private final Duration startupTimeout;
  private final CertificateAuthority ca;
  private EtcdServer etcd;
  private final Map<String, ArborServer> dataNodes = new LinkedHashMap<>();
  private final Map<String, ArborServer> liaisons = new LinkedHashMap<>();
  private final Map<String, NodeCert> certs = new LinkedHashMap<>();
  private long startMillis;

  private ClusterOfProcesses(Path workDir, Duration startupTimeout, CertificateAuthority ca) {
    this.workDir = workDir;
    this.startupTimeout = startupTimeout;
    this.ca = ca;
  }

  /** A cluster of the roles in {@code jar}, its directories under {@code workDir}. */
  public static Builder builder(ArborJar jar, Path workDir) {
    return new Builder(jar, workDir);
  }

  /** What to start; {@link #start()} starts it. */
  public static final class Builder {
    private final ArborJar jar;
    private final Path workDir;
    private List<String> dataNodeIds = List.of("d1", "d2", "d3");
    private String dataNamePrefix = "data-";
    private final List<String> dataArgs = new ArrayList<>();
    private List<String> dataJvmOpts = List.of();
    private List<String> liaisonJvmOpts = List.of();
    private final Map<String, List<String>> liaisons = new LinkedHashMap<>();
    private String nodeTtl;
    private CertificateAuthority ca;
    private String liaisonCertId;
    private Function<String, Path> logs;
    private Consumer<String> events = e -> { };
    private Duration startupTimeout = Duration.ofSeconds(60);

    private Builder(ArborJar jar, Path workDir) {
      this.jar = jar;
      this.workDir = workDir;
      this.logs = name -> workDir.resolve("logs").resolve(name + ".log");
    }

    /** The data nodes' ids (default d1, d2, d3). */
    public Builder dataNodes(List<String> ids) {
      this.dataNodeIds = List.copyOf(ids);
      return this;
    }

    /** {@code n} data nodes, {@code d1..dn}. */
    public Builder dataNodes(int n) {
      List<String> ids = new ArrayList<>();
      for (int i = 1; i <= n; i++) {
        ids.add("d" + i);
      }
      return dataNodes(ids);
    }

    /** A data node's name is this prefix and its id (default {@code data-}). */
    public Builder dataNamePrefix(String prefix) {
      this.dataNamePrefix = prefix;
      return this;
    }

    /** Arguments for every data node after its role's own. */
    public Builder dataArgs(List<String> args) {
      this.dataArgs.addAll(args);
      return this;
    }

    public Builder dataArgs(String... args) {
      return dataArgs(List.of(args));
    }

    public Builder dataJvmOpts(List<String> opts) {
      this.dataJvmOpts = List.copyOf(opts);
      return this;
    }

    public Builder liaisonJvmOpts(List<String> opts) {
      this.liaisonJvmOpts = List.copyOf(opts);
      return this;
    }

    /** {@code --node-ttl} for every role (a long one keeps a killed node registered). */
    public Builder nodeTtl(String ttl) {
      this.nodeTtl = ttl;
      return this;
    }

    /** A liaison named {@code name} with these arguments after its role's own (repeatable). */
    public Builder liaison(String name, List<String> args) {
      this.liaisons.put(name, List.copyOf(args));
      return this;
    }

    public Builder liaison(String name, String... args) {
      return liaison(name, List.of(args));
    }

    /**
     * TLS everywhere but etcd: each data node gets a certificate of {@code ca} with its node id as
     * CN, each liaison one with {@code liaisonCertId} (also its {@code --node-id}); one
     * certificate serves a node's every listener — mutual TLS on the internal one, TLS on the
     * admin/public gRPC and HTTP ports (readiness is then checked over HTTPS).
     */
    public Builder tls(CertificateAuthority ca, String liaisonCertId) {
      this.ca = ca;
      this.liaisonCertId = liaisonCertId;
      return this;
    }

    /** Where each process's log goes, by its name (default {@code <work>/logs/<name>.log}). */
    public Builder logs(Function<String, Path> logs) {
      this.logs = logs;
      return this;
    }

    /** Receives each process's start, stop and kill lines. */
    public Builder onEvent(Consumer<String> events) {
      this.events = events;
      return this;
    }

    /** Bound on each process's start (default 60 s). */
    public Builder startupTimeout(Duration timeout) {
      this.startupTimeout = timeout;
      return this;
    }

    /** Starts etcd, the data nodes (in parallel), then the liaisons; stops what started on failure. */
    public ClusterOfProcesses start() {
      ClusterOfProcesses c = new ClusterOfProcesses(workDir, startupTimeout, ca);
      long t0 = System.nanoTime();
      try {
        c.etcd = EtcdServer.start(Files.createDirectories(workDir.resolve("etcd")));
        String metadata = c.etcd.metadataUri();
        Map<String, ArborServer.Builder> data = new LinkedHashMap<>();
        for (String id : dataNodeIds) {
          ArborServer.Builder b = ArborServer.data(jar, id,
                  Files.createDirectories(workDir.resolve(id)), metadata)
              .name(dataNamePrefix + id).log(logs.apply(dataNamePrefix + id))
              .jvmOpts(dataJvmOpts).onEvent(events);
          addCommon(c, b, id);
          data.put(id, b.args(dataArgs));
        }
        c.dataNodes.putAll(startAll(data, startupTimeout));
        Map<String, ArborServer.Builder> lia = new LinkedHashMap<>();
        liaisons.forEach((name, args) -> {
          ArborServer.Builder b = ArborServer.liaison(jar, metadata).name(name)
              .log(logs.apply(name)).jvmOpts(liaisonJvmOpts).onEvent(events);
          if (ca != null) {
            b.args("--node-id", liaisonCertId);
          }
          addCommon(c, b, ca == null ? null : liaisonCertId);
          lia.put(name, b.args(args));
        });
        c.liaisons.putAll(startAll(lia, startupTimeout));
        c.startMillis = (System.nanoTime() - t0) / 1_000_000;
        return c;
      } catch (IOException e) {
        c.close();
        throw new UncheckedIOException(e);
      } catch (RuntimeException | Error e) {
        c.close();
        throw e;
      }
    }

    private void addCommon(ClusterOfProcesses c, ArborServer.Builder b, String certId) {
      if (nodeTtl != null) {
        b.args("--node-ttl", nodeTtl);
      }
      if (ca != null) {
        NodeCert cert = c.certs.computeIfAbsent(certId, id -> {
          try {
            return ca.issue(id);
          } catch (IOException e) {
            throw new UncheckedIOException("cannot issue a certificate for " + id, e);
          }
        });
        b.args("--internal-tls-cert-file", cert.certFile().toString(),
            "--internal-tls-key-file", cert.keyFile().toString(),
            "--internal-tls-ca-file", ca.caFile().toString(),
            "--tls-cert-file", cert.certFile().toString(),
            "--tls-key-file", cert.keyFile().toString());
        b.httpsTrusting(ca.caFile());
      }
    }
  }

  /**
   * Starts every builder in parallel and returns them in the given order once each is ready (for
   * data nodes: registered, so roles started next see them all); on any failure, ends those that
   * started and throws the first failure.
   */
  public static Map<String, ArborServer> startAll(Map<String, ArborServer.Builder> builders,
      Duration timeout) {
    Map<String, ArborServer> out = new LinkedHashMap<>();
    if (builders.isEmpty()) {
      return out;
    }
    ExecutorService pool = Executors.newFixedThreadPool(builders.size());
    Map<String, Future<ArborServer>> starting = new LinkedHashMap<>();
    builders.forEach((key, b) -> starting.put(key, pool.submit(() -> b.start(timeout))));
    pool.shutdown();
    RuntimeException failure = null;
    for (Map.Entry<String, Future<ArborServer>> e : starting.entrySet()) {
      try {
        // each start is bounded by timeout (three times, for port races)
        out.put(e.getKey(), e.getValue().get(timeout.toSeconds() * 3 + 30, TimeUnit.SECONDS));
      } catch (ExecutionException ex) {
        RuntimeException cause = ex.getCause() instanceof RuntimeException r ? r
            : new HarnessException("starting " + e.getKey() + " failed", ex.getCause());
        failure = addTo(failure, cause);
      } catch (TimeoutException ex) {
        failure = addTo(failure, new HarnessException("starting " + e.getKey() + " took too long"));
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        failure = addTo(failure, new HarnessException("interrupted starting " + e.getKey(), ex));
      }
    }
    if (failure != null) {
      pool.shutdownNow();
      out.values().forEach(ArborServer::destroy);
      throw failure;
    }
    return out;
  }

  private static RuntimeException addTo(RuntimeException first, RuntimeException next) {
    if (first == null) {
      return next;
    }
    first.addSuppressed(next);
    return first;
  }

  // ---------------------------------------------------------------------------------------------

  public EtcdServer etcd() {
    return etcd;
  }

  /** {@code etcd://127.0.0.1:PORT}: what every role's {@code --metadata} is. */
  public String metadata() {
    return etcd.metadataUri();
  }

  /** The data nodes by id, in start order. */
  public Map<String, ArborServer> dataNodes() {
    return Collections.unmodifiableMap(dataNodes);
  }

  public ArborServer dataNode(String id) {
    ArborServer n = dataNodes.get(id);
    if (n == null) {
      throw new IllegalArgumentException("no data node " + id + " (have " + dataNodes.keySet() + ")");
    }
    return n;
  }

  public List<String> dataNodeIds() {
    return List.copyOf(dataNodes.keySet());
  }

  /** The first liaison. */
  public ArborServer liaison() {
    return liaisons.values().iterator().next();
  }

  public ArborServer liaison(String name) {
    return liaisons.get(name);
  }

  /** The liaisons by name, in the order they were asked for. */
  public Map<String, ArborServer> liaisons() {
    return Collections.unmodifiableMap(liaisons);
  }

  /** The CA of the nodes' certificates; null when the cluster runs plaintext. */
  public CertificateAuthority ca() {
    return ca;
  }

  /** A data node's certificate (CN = its id) in a TLS cluster; null otherwise. */
  public NodeCert cert(String id) {
    return certs.get(id);
  }

  /** SIGKILLs a data node (see {@link ArborServer#kill9()}). */
  public void kill9(String id) {
    dataNode(id).kill9();
  }

  /** Starts a stopped or killed data node again on its directory and ports. */
  public ArborServer restart(String id) {
    return dataNode(id).restart(startupTimeout);
  }

  public Duration startupTimeout() {
    return startupTimeout;
  }

  /** How long {@link Builder#start()} took, in milliseconds. */
  public long startMillis() {
    return startMillis;
  }

  public Path workDir() {
    return workDir;
  }

  /** etcd's, then every data node's, then every liaison's pid (those that run). */
  public List<Long> pids() {
    List<Long> pids = new ArrayList<>();
    if (etcd != null && etcd.alive()) {
      pids.add(etcd.pid());
    }
    dataNodes.values().forEach(n -> pids.add(n.pid()));
    liaisons.values().forEach(n -> pids.add(n.pid()));
    return pids;
  }

  /** Whether etcd, every data node and every liaison still run. */
  public boolean alive() {
    return etcd != null && etcd.alive()
        && dataNodes.values().stream().allMatch(ArborServer::alive)
        && liaisons.values().stream().allMatch(ArborServer::alive);
  }

  /**
   * Stops everything in order (liaisons, data nodes in parallel, etcd) with SIGTERM; returns one
   * problem per role that did not exit 0 (with its log tail) or not in time (then SIGKILLed).
   */
  public List<String> stop() {
    List<String> problems = new ArrayList<>();
    problems.addAll(stopAll(List.copyOf(liaisons.values())));
    problems.addAll(stopAll(List.copyOf(dataNodes.values())));
    if (etcd != null) {
      etcd.stop();
    }
    return problems;
  }

  /**
   * SIGTERMs every running one at once (they shut down in parallel), then waits for each; one
   * line per process that did not exit 0 or did not stop in time.
   */
  public static List<String> stopAll(List<ArborServer> servers) {
    servers.forEach(s -> {
      if (s.alive()) {
        s.terminate();
      }
    });
    List<String> problems = new ArrayList<>();
    for (ArborServer s : servers) {
      if (s.process() == null) {
        continue;
      }
      try {
        int code = s.stop();
        if (code != 0) {
          problems.add(s.name() + " exited with " + code + " after SIGTERM\n" + s.logTail(30));
        }
      } catch (HarnessException e) {
        problems.add(e.getMessage());
      }
    }
    return problems;
  }

  /** {@link #stop()}, ignoring exit codes; never throws. */
  @Override
  public void close() {
    stop();
  }
}
