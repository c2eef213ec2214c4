package dev.arbor.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.harness.ClusterOfProcesses;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * The end of a class that runs one cluster of processes for all its tests: the cluster is stopped
 * with SIGTERM and every role must exit 0; the work directory (data, logs) is deleted only when
 * every test passed and every role stopped cleanly, so a failure leaves it under target/it-work to
 * read. Register it with {@code @RegisterExtension} and call {@link #stop} from {@code @AfterAll}.
 */
final class ClusterTeardown implements TestWatcher {
  private final AtomicBoolean failed = new AtomicBoolean();

  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    failed.set(true);
  }

  /** Stops {@code cluster} (null: never started), cleans {@code work} when nothing failed. */
  void stop(ClusterOfProcesses cluster, Path work) {
    List<String> problems = cluster == null ? List.of() : cluster.stop();
    if (!failed.get() && problems.isEmpty() && work != null) {
      ArborProcess.deleteDataDir(work);
    }
    assertThat(problems).as("cluster roles stop with exit 0 on SIGTERM").isEmpty();
  }
}
