package dev.arbor.bench;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A closed-loop load driver over async unary gRPC calls: {@code clients} virtual clients, each with
 * exactly one request outstanding; a completion issues that client's next request from the
 * callback (channels use a direct executor), so the client process needs no thread per client and
 * stays light. Latency is measured from just before the call is issued to its completion, in
 * nanoseconds, into an HdrHistogram {@link Recorder}. Being closed-loop, latencies are not
 * corrected for coordinated omission: a slow response delays that client's next request.
 */
final class ClosedLoop<R> {

  /** One kind of request. */
  interface Op<R> {
    /**
     * Issues client {@code client}'s next request, completing into {@code observer}; answers false
     * (without issuing) when there is no more work, which ends that client.
     */
    boolean issue(int client, StreamObserver<R> observer);

    /** Whether a successful response is the one expected (a miss is counted, not an error). */
    default boolean check(int client, R response) {
      return true;
    }
  }

  /** What one measured window saw. */
  record Window(Histogram latencies, long ops, long errors, long misses, double seconds,
      CpuSample.Delta cpu, String firstError) {
    double opsPerSecond() {
      return seconds <= 0 ? 0 : ops / seconds;
    }
  }

  private static final long MAX_LATENCY_NANOS = TimeUnit.MINUTES.toNanos(2);
  /** Errors after which the run is abandoned (a dead or failing server). */
  private static final long MAX_ERRORS = 200;

  private final Op<R> op;
  private final int clients;
  private final Recorder recorder = new Recorder(1, MAX_LATENCY_NANOS, 3);
  private final AtomicBoolean stop = new AtomicBoolean();
  private final AtomicLong errors = new AtomicLong();
  private final AtomicLong misses = new AtomicLong();
  private final AtomicReference<Throwable> firstError = new AtomicReference<>();
  private final CountDownLatch done;

  ClosedLoop(Op<R> op, int clients) {
    this.op = op;
    this.clients = clients;
    this.done = new CountDownLatch(clients);
  }

  private final class Client implements StreamObserver<R> {
    private final int id;
    private long startNanos;
    private R last;

    Client(int id) {
      this.id = id;
    }

    void next() {
      if (stop.get()) {
        done.countDown();
        return;
      }
      last = null;
      startNanos = System.nanoTime();
      boolean issued;
      try {
        issued = op.issue(id, this);
      } catch (RuntimeException e) {
        fail(e);
        done.countDown();
        return;
      }
      if (!issued) {
        done.countDown();
      }
    }

    @Override
    public void onNext(R value) {
      last = value;
    }

    @Override
    public void onError(Throwable t) {
      fail(t);
      next();
    }

    @Override
    public void onCompleted() {
      long nanos = System.nanoTime() - startNanos;
      recorder.recordValue(Math.min(Math.max(nanos, 1), MAX_LATENCY_NANOS));
      if (!op.check(id, last)) {
        misses.incrementAndGet();
      }
      next();
    }
  }

  private void fail(Throwable t) {
    firstError.compareAndSet(null, t);
    if (errors.incrementAndGet() >= MAX_ERRORS) {
      stop.set(true);
    }
  }

  /** Starts all clients; they run until {@link #stopAndAwait} or until they run out of work. */
  void start() {
    for (int i = 0; i < clients; i++) {
      new Client(i).next();
    }
  }

  static String describe(Throwable t) {
    String s = t.toString();
    return s.length() > 300 ? s.substring(0, 300) + "…" : s;
  }

  long errors() {
    return errors.get();
  }

  long misses() {
    return misses.get();
  }

  boolean abandoned() {
    return errors.get() >= MAX_ERRORS;
  }

  /** Signals every client to stop after its outstanding request and waits (bounded). */
  boolean stopAndAwait(long timeoutSeconds) throws InterruptedException {
    stop.set(true);
    return done.await(timeoutSeconds, TimeUnit.SECONDS);
  }

  /** Waits for clients that end by themselves (a fixed amount of work). */
  boolean awaitDone(long timeout, TimeUnit unit) throws InterruptedException {
    return done.await(timeout, unit);
  }

  /**
   * Runs a warm-up of {@code warmupSeconds}, then measures {@code measureSeconds}, then stops.
   * Returns the measured window.
   */
  static <R> Window timed(Op<R> op, int clients, double warmupSeconds, double measureSeconds,
      ServerSide server) throws InterruptedException {
    ClosedLoop<R> loop = new ClosedLoop<>(op, clients);
    loop.start();
    sleepSeconds(warmupSeconds, loop);
    loop.recorder.getIntervalHistogram(); // discard the warm-up
    long e0 = loop.errors(), m0 = loop.misses();
    CpuSample c0 = CpuSample.now(server);
    long t0 = System.nanoTime();
    sleepSeconds(measureSeconds, loop);
    Window w = loop.windowFrom(t0, e0, m0, c0, server);
    if (!loop.stopAndAwait(60)) {
      throw new IllegalStateException("requests still outstanding 60 s after stop: server hung?");
    }
    if (loop.abandoned()) {
      throw new IllegalStateException(
          "abandoned after " + loop.errors() + " errors; first: " + w.firstError());
    }
    return w;
  }

  Window windowFrom(long t0, long e0, long m0, CpuSample c0, ServerSide server) {
    Histogram h = recorder.getIntervalHistogram();
    double seconds = (System.nanoTime() - t0) / 1e9;
    CpuSample.Delta cpu = CpuSample.now(server).minus(c0);
    Throwable fe = firstError.get();
    return new Window(h, h.getTotalCount(), errors.get() - e0, misses.get() - m0, seconds, cpu,
        fe == null ? null : describe(fe));
  }

  private static void sleepSeconds(double seconds, ClosedLoop<?> loop) throws InterruptedException {
    long end = System.nanoTime() + (long) (seconds * 1e9);
    while (!loop.abandoned()) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        return;
      }
      TimeUnit.NANOSECONDS.sleep(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
    }
  }
}
