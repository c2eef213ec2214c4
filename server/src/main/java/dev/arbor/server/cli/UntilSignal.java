package dev.arbor.server.cli;

import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;

/** Blocks a server command until SIGTERM or Ctrl-C, so it can shut down gracefully and exit 0. */
final class UntilSignal {
  private final CountDownLatch stop = new CountDownLatch(1);

  UntilSignal() {
    Signal.handle(new Signal("TERM"), s -> stop.countDown());
    Signal.handle(new Signal("INT"), s -> stop.countDown());
  }

  void await() throws InterruptedException {
    stop.await();
  }
}
