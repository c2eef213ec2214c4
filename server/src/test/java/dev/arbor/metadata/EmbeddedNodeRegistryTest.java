package dev.arbor.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.errors.FailedPreconditionException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class EmbeddedNodeRegistryTest {
  private static final Duration TTL = Duration.ofSeconds(10);

  @Test
  void aSecondNodeWithTheSameIdIsRefusedNamingTheHolderUntilTheFirstLeaves() {
    RegisteredNode first = RegisteredNode.of("data-1", "127.0.0.1:18001", Set.of("data"));
    RegisteredNode second = RegisteredNode.of("data-1", "127.0.0.1:28001", Set.of("data"));
    try (EmbeddedNodeRegistry r = new EmbeddedNodeRegistry()) {
      List<String> events = new CopyOnWriteArrayList<>();
      r.addListener(e -> events.add(e.type() + " " + e.node().grpcAddress()));
      r.register(first, TTL);

      assertThatThrownBy(() -> r.register(second, TTL))
          .isInstanceOf(FailedPreconditionException.class)
          .hasMessageContaining("node id data-1")
          .hasMessageContaining("127.0.0.1:18001")
          .hasMessageNotContaining("\n");
      assertThat(r.nodes()).containsExactly(first);

      r.deregister("data-1");
      r.register(second, TTL);
      assertThat(r.nodes()).containsExactly(second);
      assertThat(events).containsExactly(
          "JOINED 127.0.0.1:18001", "LEFT 127.0.0.1:18001", "JOINED 127.0.0.1:28001");
    }
  }
}
