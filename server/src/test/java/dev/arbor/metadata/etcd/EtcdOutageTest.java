package dev.arbor.metadata.etcd;

import dev.arbor.metadata.MetadataEvent;
import static dev.arbor.metadata.etcd.EtcdTestSupport.group;
import static dev.arbor.metadata.etcd.EtcdTestSupport.schema;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.arbor.errors.AlreadyExistsException;
import dev.arbor.errors.UnavailableException;
import dev.arbor.property.HybridClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** etcd going away and coming back while stores run. */
class EtcdOutageTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(1);

  @Test
  void readsServeWritesFailFastAndEverythingResumesWhenEtcdReturns(@TempDir Path dir)
      throws Exception {
    Logger connLog = (Logger) LoggerFactory.getLogger(EtcdConnection.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    connLog.addAppender(logged);
    try (EtcdProcess etcd = EtcdProcess.start(dir);
        EtcdMetadataStore a =
            EtcdMetadataStore.connect(etcd.endpoints(), null, HybridClock.system(), TIMEOUT);
        EtcdMetadataStore b =
            EtcdMetadataStore.connect(etcd.endpoints(), null, HybridClock.system(), TIMEOUT)) {
      List<MetadataEvent> seenByA = new CopyOnWriteArrayList<>();
      a.addListener(seenByA::add);
      var g = a.createGroup(group("g", 2));
      var p = a.createSchema(schema("g", "s", "t"));
      await().atMost(Duration.ofSeconds(1)).until(() -> b.schema("g", "s").isPresent());

      etcd.stop();

      // Reads keep serving the last known metadata.
      assertThat(a.group("g")).contains(g);
      assertThat(a.schemas("g")).containsExactly(p);
      // Writes fail quickly, naming etcd, and keep failing (logged once, not per call).
      for (int i = 0; i < 3; i++) {
        long t0 = System.nanoTime();
        String name = "during-" + i;
        assertThatThrownBy(() -> a.createGroup(group(name, 1)))
            .isInstanceOf(UnavailableException.class)
            .hasMessageContaining("etcd at " + etcd.clientUri());
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(TIMEOUT.multipliedBy(3));
      }
      assertThat(a.group("g")).contains(g);
      assertThat(a.connection().isAvailable()).isFalse();

      etcd.start();

      // Another node changes metadata as soon as etcd is back, before A's watch has resumed.
      await()
          .atMost(Duration.ofSeconds(10))
          .ignoreExceptionsInstanceOf(UnavailableException.class)
          .until(
              () -> {
                try {
                  b.createGroup(group("after", 3));
                } catch (AlreadyExistsException e) {
                  // an earlier attempt did commit, though its answer was lost
                }
                return true;
              });
      b.deleteSchema("g", "s");

      // A catches up and writes work again.
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> a.group("after").isPresent() && a.schema("g", "s").isEmpty());
      await()
          .atMost(Duration.ofSeconds(5))
          .ignoreExceptionsInstanceOf(UnavailableException.class)
          .until(() -> a.createGroup(group("a-again", 1)) != null);
      await().atMost(Duration.ofSeconds(1)).until(() -> b.group("a-again").isPresent());
      assertThat(a.connection().isAvailable()).isTrue();
      // Writes refused while etcd was down were not applied later behind the caller's back.
      assertThat(b.groups())
          .extracting(x -> x.getMetadata().getName())
          .containsExactly("a-again", "after", "g");
      await()
          .atMost(Duration.ofSeconds(1))
          .untilAsserted(
              () ->
                  assertThat(seenByA)
                      .extracting(e -> e.type() + " " + e.groupName() + "/" + e.schemaName())
                      .contains("GROUP_CREATED after/", "SCHEMA_DELETED g/s", "GROUP_CREATED a-again/"));

      List<ILoggingEvent> warnings =
          logged.list.stream()
              .filter(e -> e.getLevel() == Level.WARN && e.getFormattedMessage().contains("unreachable"))
              .filter(e -> e.getFormattedMessage().contains(etcd.clientUri().toString()))
              .toList();
      // One per store (each has its own connection), not one per failed call.
      assertThat(warnings).hasSizeBetween(1, 2);
    } finally {
      connLog.detachAppender(logged);
    }
  }

  @Test
  void etcdKilledAndRestartedOnTheSameDirectoryKeepsTheData(@TempDir Path dir) throws Exception {
    try (EtcdProcess etcd = EtcdProcess.start(dir)) {
      try (EtcdMetadataStore s =
          EtcdMetadataStore.connect(etcd.endpoints(), null, HybridClock.system(), TIMEOUT)) {
        s.createGroup(group("kept", 1));
      }
      etcd.kill();
      etcd.start();
      try (EtcdMetadataStore s =
          EtcdMetadataStore.connect(etcd.endpoints(), null, HybridClock.system(), TIMEOUT)) {
        assertThat(s.group("kept")).isPresent();
      }
    }
  }
}
