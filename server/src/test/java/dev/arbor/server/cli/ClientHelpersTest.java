package dev.arbor.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.property.v1.Property;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The client commands' parsing helpers and the failures that happen before any RPC. */
class ClientHelpersTest {

  @ParameterizedTest
  @CsvSource({
    "string, TAG_TYPE_STRING",
    "STRING, TAG_TYPE_STRING",
    "int, TAG_TYPE_INT",
    "string_array, TAG_TYPE_STRING_ARRAY",
    "int_array, TAG_TYPE_INT_ARRAY",
    "binary, TAG_TYPE_DATA_BINARY",
    "timestamp, TAG_TYPE_TIMESTAMP",
    "TAG_TYPE_INT_ARRAY, TAG_TYPE_INT_ARRAY",
    "tag_type_data_binary, TAG_TYPE_DATA_BINARY"
  })
  void tagTypeNames(String name, TagType expected) {
    assertThat(TagValues.parseType(name)).isEqualTo(expected);
  }

  @Test
  void unknownTagTypeNamesTheAcceptedOnes() {
    assertThatThrownBy(() -> TagValues.parseType("float"))
        .hasMessageContaining("float")
        .hasMessageContaining("string_array");
    assertThatThrownBy(() -> TagValues.parseType("TAG_TYPE_UNSPECIFIED"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void tagValuesOfEveryType() {
    assertThat(TagValues.parseTag("title=Home").getValue().getStr().getValue()).isEqualTo("Home");
    assertThat(TagValues.parseTag("eq=a=b").getValue().getStr().getValue()).isEqualTo("a=b");
    assertThat(TagValues.parseTag("n:int=-5").getValue().getInt().getValue()).isEqualTo(-5L);
    assertThat(TagValues.parseTag("s:string_array=a,b").getValue().getStrArray().getValueList())
        .containsExactly("a", "b");
    assertThat(TagValues.parseTag("s:string_array=").getValue().getStrArray().getValueCount())
        .isZero();
    assertThat(TagValues.parseTag("i:int_array=1, 2").getValue().getIntArray().getValueList())
        .containsExactly(1L, 2L);
    assertThat(TagValues.parseTag("b:binary=AAEC").getValue().getBinaryData().toByteArray())
        .containsExactly(0, 1, 2);
    Tag ts = TagValues.parseTag("t:timestamp=2025-01-31T12:00:00.5Z");
    assertThat(ts.getValue().getTimestamp().getSeconds()).isEqualTo(1738324800L);
    assertThat(ts.getValue().getTimestamp().getNanos()).isEqualTo(500_000_000);
  }

  @Test
  void colonSuffixThatIsNoTypeStaysInTheKey() {
    Tag t = TagValues.parseTag("svc:region=eu");
    assertThat(t.getKey()).isEqualTo("svc:region");
    assertThat(t.getValue().getStr().getValue()).isEqualTo("eu");
  }

  @Test
  void badTagValuesNameTheTag() {
    assertThatThrownBy(() -> TagValues.parseTag("n:int=five")).hasMessageContaining("'n'");
    assertThatThrownBy(() -> TagValues.parseTag("b:binary=***")).hasMessageContaining("base64");
    assertThatThrownBy(() -> TagValues.parseTag("t:timestamp=now")).hasMessageContaining("ISO");
    assertThatThrownBy(() -> TagValues.parseTag("novalue")).hasMessageContaining("key=value");
  }

  @ParameterizedTest
  @CsvSource({"500ms, 500", "10s, 10000", "2m, 120000", "1h, 3600000", "7d, 604800000", "PT1.5S, 1500"})
  void durations(String text, long millis) {
    assertThat(new DurationConverter().convert(text)).isEqualTo(Duration.ofMillis(millis));
  }

  @Test
  void badTimeoutsAreUsageErrors() {
    CliRun zero = run("group", "list", "--timeout", "0s");
    assertThat(zero.exit()).isEqualTo(2);
    assertThat(zero.err()).contains("--timeout must be positive");
    CliRun words = run("group", "list", "--timeout", "soon");
    assertThat(words.exit()).isEqualTo(2);
    assertThat(words.err()).contains("not a duration");
  }

  @Test
  void messagesLoseClassPrefixesAndExtraLines() {
    assertThat(
            Messages.clean(
                "com.google.gson.stream.MalformedJsonException: Unterminated object at line 1\n"
                    + "See https://example"))
        .isEqualTo("Unterminated object at line 1");
    assertThat(Messages.oneLine(new RuntimeException(null, new IllegalStateException("why"))))
        .isEqualTo("why");
  }

  @Test
  void jsonParseErrorsAreOneLine() {
    assertThatThrownBy(() -> JsonInput.parse("{\"id\": ", Property.newBuilder(), "property"))
        .isInstanceOf(CliInputException.class)
        .hasMessageStartingWith("invalid JSON for property: ")
        .hasMessageNotContaining("\n")
        .hasMessageNotContaining("Exception");
    assertThatThrownBy(() -> JsonInput.parse("{\"idd\": 1}", Property.newBuilder(), "property"))
        .hasMessageContaining("idd");
    assertThatThrownBy(() -> JsonInput.parse("  ", Property.newBuilder(), "property"))
        .hasMessageContaining("empty");
  }

  // Failures caught before any RPC: the target below is never contacted.

  @Test
  void jsonAndFieldOptionsAreExclusive() {
    CliRun r = run("property", "apply", "--json", "{}", "--name", "x");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--json cannot be combined with --name");
  }

  @Test
  void missingInputIsAUsageError() {
    CliRun r = run("group", "create");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--name G --shards N");
  }

  @Test
  void badTagOptionIsAUsageError() {
    CliRun r = run("schema", "create", "--group", "g", "--name", "n", "--tag", "a:float");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("unknown tag type 'float'");
  }

  @Test
  void missingFileIsOneLine() {
    CliRun r = run("property", "apply", "--file", "/nonexistent/p.json");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("error: cannot read /nonexistent/p.json: no such file\n");
  }

  @Test
  void parentCommandWithoutSubcommandShowsUsage() {
    CliRun r = run("property");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("missing subcommand").contains("apply").contains("query");
  }

  private static CliRun run(String... args) {
    return CliRun.arbor(args);
  }
}
