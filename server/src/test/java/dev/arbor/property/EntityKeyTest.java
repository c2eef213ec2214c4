package dev.arbor.property;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class EntityKeyTest {

  @Test
  void parseSplitsAtTheFirstTwoSlashesSoTheIdMayContainSlashes() {
    EntityKey k = EntityKey.parse("grp/svc/a/b//c/");

    assertThat(k.group()).isEqualTo("grp");
    assertThat(k.name()).isEqualTo("svc");
    assertThat(k.id()).isEqualTo("a/b//c/");
  }

  @Test
  void entityAndParseRoundTrip() {
    EntityKey k = new EntityKey("g", "n", "path/to/ünïcødé/≠");

    assertThat(k.entity()).isEqualTo("g/n/path/to/ünïcødé/≠");
    assertThat(k.toString()).isEqualTo(k.entity());
    assertThat(EntityKey.parse(k.entity())).isEqualTo(k);
    assertThat(k.entityUtf8()).isEqualTo(k.entity().getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void emptyIdRoundTrips() {
    EntityKey k = new EntityKey("g", "n", "");
    assertThat(EntityKey.parse(k.entity())).isEqualTo(k);
  }

  @Test
  void rejectsSlashInGroup() {
    assertThatThrownBy(() -> new EntityKey("g/x", "n", "i"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("/");
  }

  @Test
  void rejectsSlashInName() {
    assertThatThrownBy(() -> new EntityKey("g", "n/x", "i"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("/");
  }

  /**
   * The entity string is what the WAL and the Lucene documents store, so every key the
   * constructor accepts must parse back to itself (or the constructor must reject it): otherwise
   * a write succeeds and recovery of the WAL, or reading the document back, fails later.
   */
  @ParameterizedTest
  @CsvSource({"'',n,i", "g,'',i", "'','',''"})
  void everyConstructibleKeyParsesBack(String group, String name, String id) {
    EntityKey k;
    try {
      k = new EntityKey(group, name, id);
    } catch (IllegalArgumentException rejected) {
      return;
    }
    assertThat(EntityKey.parse(k.entity())).as("parse(%s)", k.entity()).isEqualTo(k);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "g", "g/n", "/n/i", "g//i", "//"})
  void parseRejectsStringsThatAreNotEntityKeys(String s) {
    assertThatThrownBy(() -> EntityKey.parse(s))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not an entity key");
  }
}
