package dev.arbor.liaison;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.property.EntityKey;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** Per-key locks: writers of one key wait for each other, of other keys never; nothing is left behind. */
class KeyLocksTest {
  private final KeyLocks locks = new KeyLocks();
  private final EntityKey k = new EntityKey("g", "n", "k");

  @Test
  void aSecondWriterOfTheSameKeyWaitsWhileOtherKeysDoNot() throws Exception {
    AtomicBoolean secondHeld = new AtomicBoolean();
    Thread second;
    try (KeyLocks.Held first = locks.lock(k)) {
      second = new Thread(() -> {
        try (KeyLocks.Held h = locks.lock(new EntityKey("g", "n", "k"))) {
          secondHeld.set(true);
        }
      });
      second.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> second.getState() == Thread.State.WAITING);
      assertThat(secondHeld).isFalse();
      // Another key of the same name is not held up (a stripe could have been).
      try (KeyLocks.Held other = locks.lock(new EntityKey("g", "n", "other"))) {
        assertThat(locks.size()).isEqualTo(2);
      }
    }
    second.join(10_000);
    assertThat(secondHeld).isTrue();
    assertThat(locks.size()).as("no lock kept for keys nobody writes").isZero();
  }
}
