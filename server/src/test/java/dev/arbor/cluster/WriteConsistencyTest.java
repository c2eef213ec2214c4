package dev.arbor.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.errors.InvalidArgumentException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class WriteConsistencyTest {

  @ParameterizedTest(name = "copies={0}")
  @CsvSource({
    // copies, one, quorum, all
    "1, 1, 1, 1",
    "2, 1, 2, 2",
    "3, 1, 2, 3",
    "4, 1, 3, 4",
    "5, 1, 3, 5",
  })
  void requiredAcknowledgements(int copies, int one, int quorum, int all) {
    assertThat(WriteConsistency.ONE.required(copies)).isEqualTo(one);
    assertThat(WriteConsistency.QUORUM.required(copies)).isEqualTo(quorum);
    assertThat(WriteConsistency.ALL.required(copies)).isEqualTo(all);
    assertThat(WriteConsistency.QUORUM.isMet(quorum, copies)).isTrue();
    assertThat(WriteConsistency.QUORUM.isMet(quorum - 1, copies)).isFalse();
  }

  @Test
  void copiesMustBePositive() {
    assertThatThrownBy(() -> WriteConsistency.ONE.required(0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest
  @CsvSource({"one, ONE", "ONE, ONE", "Quorum, QUORUM", "' all ', ALL"})
  void parsesCaseInsensitively(String text, WriteConsistency expected) {
    assertThat(WriteConsistency.parse(text)).isEqualTo(expected);
    assertThat(WriteConsistency.parse(expected.text())).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "two", "majority", "al"})
  void rejectsUnknownText(String text) {
    assertThatThrownBy(() -> WriteConsistency.parse(text))
        .isInstanceOf(InvalidArgumentException.class)
        .hasMessage("invalid write consistency '" + text + "': expected one of one, quorum, all");
  }

  @Test
  void rejectsNullAndDefaultsToOne() {
    assertThatThrownBy(() -> WriteConsistency.parse(null))
        .isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("expected one of one, quorum, all");
    assertThat(WriteConsistency.DEFAULT).isEqualTo(WriteConsistency.ONE);
  }
}
