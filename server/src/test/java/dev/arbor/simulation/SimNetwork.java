package dev.arbor.simulation;

import dev.arbor.transport.ChannelFactory;
import io.grpc.BindableService;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The simulated network: every node serves its real gRPC services on an in-process server, and
 * every channel between nodes is an in-process channel whose calls run on the caller's thread
 * (direct executors on both ends), so a call is one synchronous step of the simulation. A fault
 * interceptor between them decides, per call, from the seed alone: deliver, refuse (the target is
 * down or partitioned away), drop the request, lose the reply after the target acted on it,
 * deliver it twice, or deliver it late (the caller times out now, the target gets it later) —
 * and cuts session streams mid-way. Decisions are drawn per (caller, target, method) in call
 * order, so threads the production code uses internally cannot reorder them.
 */
final class SimNetwork implements AutoCloseable {
  /** Probabilities of each fault per call (unary) or per message (streams). */
  record Faults(double dropRequest, double loseReply, double duplicate, double late, double streamBreak) {
    static final Faults NONE = new Faults(0, 0, 0, 0, 0);

    @Override
    public String toString() {
      return String.format("drop %.3f, lost reply %.3f, duplicate %.3f, late %.3f, stream cut %.4f", dropRequest,
          loseReply, duplicate, late, streamBreak);
    }
  }

  /** What happened to calls, for the run's summary. */
  record Counts(long delivered, long refused, long dropped, long repliesLost, long duplicated, long late,
      long streamsCut) {}

  private final String prefix;
  private final long seed;
  private final SimScheduler scheduler;
  private volatile Faults faults = Faults.NONE;
  /** Calls held across steps (operations in flight at once); null: none is. */
  private volatile HeldMessages held;
  private final Map<String, Server> servers = new ConcurrentHashMap<>();
  /**
   * One channel per serving node, made when it starts serving: calls never use the caller's own
   * channel's transport, whose reconnect backoff after a restart runs on real time.
   */
  private final Map<String, io.grpc.ManagedChannel> toNode = new ConcurrentHashMap<>();
  private final Set<String> down = ConcurrentHashMap.newKeySet();
  private final Set<String> cut = ConcurrentHashMap.newKeySet();
  private final Map<String, AtomicLong> draws = new ConcurrentHashMap<>();
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong repliesLost = new AtomicLong();
  private final AtomicLong duplicated = new AtomicLong();
  private final AtomicLong late = new AtomicLong();
  private final AtomicLong streamsCut = new AtomicLong();

  /** @param prefix unique among the runs of this JVM: in-process server names are global */
  SimNetwork(String prefix, long seed, SimScheduler scheduler) {
    this.prefix = prefix;
    this.seed = seed;
    this.scheduler = scheduler;
  }

  void faults(Faults f) {
    this.faults = f;
  }

  /** Lets {@code h} hold unary calls before they go out (see {@link HeldMessages}). */
  void hold(HeldMessages h) {
    this.held = h;
  }

  Faults faults() {
    return faults;
  }

  /** The address a node registers (what peers and liaisons are given). */
  static String address(String node) {
    return node + ".sim:7000";
  }

  private static String nodeOf(String address) {
    int dot = address.indexOf(".sim:");
    return dot < 0 ? address : address.substring(0, dot);
  }

  /** Starts serving a node's services (a start or restart). */
  void serve(String node, List<BindableService> services) {
    InProcessServerBuilder b = InProcessServerBuilder.forName(prefix + address(node)).directExecutor();
    services.forEach(b::addService);
    try {
      servers.put(node, b.build().start());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    io.grpc.ManagedChannel old = toNode.put(node,
        InProcessChannelBuilder.forName(prefix + address(node)).directExecutor().build());
    if (old != null) {
      old.shutdownNow();
    }
    down.remove(node);
  }

  /** Stops a node's server: calls to it are refused from now on (a crash or a stop). */
  void unserve(String node) {
    down.add(node);
    Server s = servers.remove(node);
    if (s != null) {
      s.shutdownNow();
    }
    io.grpc.ManagedChannel c = toNode.remove(node);
    if (c != null) {
      c.shutdownNow();
    }
  }

  void partition(Set<String> side) {
    for (String a : side) {
      for (String b : List.copyOf(allNodes())) {
        if (!side.contains(b)) {
          cut.add(pair(a, b));
        }
      }
    }
  }

  /** Cuts every link between a node of {@code a} and a node of {@code b} (both directions). */
  void cut(Set<String> a, Set<String> b) {
    for (String x : a) {
      for (String y : b) {
        if (!x.equals(y)) {
          cut.add(pair(x, y));
        }
      }
    }
  }

  private Set<String> allNodes() {
    Set<String> all = ConcurrentHashMap.newKeySet();
    all.addAll(servers.keySet());
    all.addAll(down);
    return all;
  }

  void heal() {
    cut.clear();
  }

  boolean partitioned() {
    return !cut.isEmpty();
  }

  private static String pair(String a, String b) {
    return a.compareTo(b) < 0 ? a + "|" + b : b + "|" + a;
  }

  private boolean reachable(String from, String to) {
    return !down.contains(to) && servers.containsKey(to) && !cut.contains(pair(from, to));
  }

  /** Channels from {@code node}'s point of view: every call goes through the fault interceptor. */
  ChannelFactory channelsFrom(String node) {
    return ChannelFactory.over(target -> InProcessChannelBuilder.forName(prefix + target).directExecutor()
        .intercept(new FaultInterceptor(node, nodeOf(target))));
  }

  /** Channels without faults: the workload's client to its liaison (same host). */
  ChannelFactory loopback() {
    return ChannelFactory.over(target -> InProcessChannelBuilder.forName(prefix + target).directExecutor());
  }

  /** A uniform draw in [0, 1) for the n-th call from {@code from} to {@code to} of {@code method}. */
  private double draw(String from, String to, String method) {
    String k = from + ">" + to + ">" + method;
    long n = draws.computeIfAbsent(k, x -> new AtomicLong()).getAndIncrement();
    long h = mix(seed ^ mix(k.hashCode() * 0x9E3779B97F4A7C15L + n));
    return (h >>> 11) * 0x1.0p-53;
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  Counts counts() {
    return new Counts(delivered.get(), refused.get(), dropped.get(), repliesLost.get(), duplicated.get(), late.get(),
        streamsCut.get());
  }

  @Override
  public void close() {
    servers.values().forEach(Server::shutdownNow);
    servers.clear();
    toNode.values().forEach(io.grpc.ManagedChannel::shutdownNow);
    toNode.clear();
  }

  private final class FaultInterceptor implements ClientInterceptor {
    private final String from;
    private final String to;

    FaultInterceptor(String from, String to) {
      this.from = from;
      this.to = to;
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      Channel target = toNode.get(to);
      if (target == null) {
        // Not serving (down): the call is refused before anything is sent.
        return new RefusedCall<>(from, to);
      }
      if (method.getType() == MethodDescriptor.MethodType.UNARY) {
        return new UnaryCall<>(from, to, method, options, target);
      }
      return new StreamCall<>(from, to, method, target.newCall(method, options));
    }
  }

  /** A call to a node that is not serving: it ends UNAVAILABLE as soon as it starts. */
  private final class RefusedCall<Q, R> extends ClientCall<Q, R> {
    private final String from;
    private final String to;

    RefusedCall(String from, String to) {
      this.from = from;
      this.to = to;
    }

    @Override
    public void start(Listener<R> listener, Metadata headers) {
      refused.incrementAndGet();
      listener.onClose(Status.UNAVAILABLE.withDescription("simulated network: " + from + " cannot reach " + to
          + " (not serving)"), new Metadata());
    }

    @Override
    public void request(int n) {}

    @Override
    public void cancel(String message, Throwable cause) {}

    @Override
    public void halfClose() {}

    @Override
    public void sendMessage(Q message) {}
  }

  /** A unary call held until the request is complete, then delivered (or not) as the draw says. */
  private final class UnaryCall<Q, R> extends ClientCall<Q, R> {
    private final String from;
    private final String to;
    private final MethodDescriptor<Q, R> method;
    private final CallOptions options;
    private final Channel next;
    private Listener<R> listener;
    private Metadata headers;
    private Q request;
    private boolean cancelled;

    UnaryCall(String from, String to, MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      this.from = from;
      this.to = to;
      this.method = method;
      this.options = options;
      this.next = next;
    }

    @Override
    public void start(Listener<R> l, Metadata h) {
      this.listener = l;
      this.headers = h;
    }

    @Override
    public void request(int n) {}

    @Override
    public void cancel(String message, Throwable cause) {
      cancelled = true;
    }

    @Override
    public void sendMessage(Q message) {
      this.request = message;
    }

    @Override
    public void halfClose() {
      if (cancelled) {
        return;
      }
      String m = method.getBareMethodName();
      HeldMessages holds = held;
      if (holds != null && Boolean.FALSE.equals(holds.await(from, to, m))) {
        dropped.incrementAndGet();
        fail(Status.UNAVAILABLE.withDescription("simulated network: request to " + to + " held, then lost"));
        return;
      }
      if (!reachable(from, to)) {
        refused.incrementAndGet();
        fail(Status.UNAVAILABLE.withDescription("simulated network: " + from + " cannot reach " + to));
        return;
      }
      Faults f = faults;
      double d = draw(from, to, m);
      if (d < f.dropRequest()) {
        dropped.incrementAndGet();
        fail(Status.UNAVAILABLE.withDescription("simulated network: request to " + to + " dropped"));
        return;
      }
      d -= f.dropRequest();
      if (d < f.late()) {
        late.incrementAndGet();
        fail(Status.DEADLINE_EXCEEDED.withDescription("simulated network: request to " + to + " delayed"));
        long delay = 1 + (long) (draw(from, to, m + "#delay") * 2_000);
        Q req = request;
        Metadata h = headers;
        scheduler.after(delay, "late " + m + " " + from + ">" + to, () -> {
          if (reachable(from, to)) {
            deliver(req, h, null);
          }
        });
        return;
      }
      d -= f.late();
      if (d < f.loseReply()) {
        repliesLost.incrementAndGet();
        deliver(request, headers, null);
        fail(Status.UNAVAILABLE.withDescription("simulated network: reply from " + to + " lost"));
        return;
      }
      d -= f.loseReply();
      delivered.incrementAndGet();
      // The copy goes first: once the caller has its answer, the step that waits for it may end,
      // and a copy delivered after that would run alongside the next step.
      if (d < f.duplicate()) {
        duplicated.incrementAndGet();
        deliver(request, headers, null);
      }
      deliver(request, headers, listener);
    }

    private void fail(Status s) {
      listener.onClose(s, new Metadata());
    }

    /** Makes the call for real; the answer goes to {@code to}, or nowhere when it is null. */
    private void deliver(Q req, Metadata h, Listener<R> to) {
      ClientCall<Q, R> call = next.newCall(method, options);
      Metadata copy = new Metadata();
      copy.merge(h);
      call.start(to != null ? to : new Listener<>() {}, copy);
      call.request(2);
      call.sendMessage(req);
      call.halfClose();
    }
  }

  /** A stream (a repair session) that the network may cut at any message. */
  private final class StreamCall<Q, R> extends ForwardingClientCall.SimpleForwardingClientCall<Q, R> {
    private final String from;
    private final String to;
    private final String method;
    private boolean broken;

    StreamCall(String from, String to, MethodDescriptor<Q, R> method, ClientCall<Q, R> delegate) {
      super(delegate);
      this.from = from;
      this.to = to;
      this.method = method.getBareMethodName();
    }

    @Override
    public void start(Listener<R> listener, Metadata headers) {
      super.start(listener, headers);
      if (!reachable(from, to)) {
        refused.incrementAndGet();
        broken = true;
        super.cancel("simulated network: " + from + " cannot reach " + to, null);
      }
    }

    @Override
    public void sendMessage(Q message) {
      if (broken) {
        return;
      }
      if (!reachable(from, to) || draw(from, to, method) < faults.streamBreak()) {
        streamsCut.incrementAndGet();
        broken = true;
        super.cancel("simulated network: connection to " + to + " lost", null);
        return;
      }
      super.sendMessage(message);
    }
  }
}
