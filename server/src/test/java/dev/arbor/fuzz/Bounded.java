package dev.arbor.fuzz;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Runs each open on a worker thread with a deadline, so a hang fails the campaign instead of stalling it. */
final class Bounded implements AutoCloseable {
  static final long SECONDS = 10;

  private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "fuzz-open");
    t.setDaemon(true);
    return t;
  });

  /** The result, or the exception the call threw (any Throwable, Errors included). */
  record Outcome<T>(T value, Throwable error) {}

  <T> Outcome<T> run(Callable<T> call, Object input) throws InterruptedException {
    Future<T> f = worker.submit(call);
    try {
      return new Outcome<>(f.get(SECONDS, TimeUnit.SECONDS), null);
    } catch (ExecutionException e) {
      return new Outcome<>(null, e.getCause());
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new AssertionError("hang: no answer within " + SECONDS + "s for " + Fuzz.abbreviate(input));
    }
  }

  @Override
  public void close() {
    worker.shutdownNow();
  }
}
