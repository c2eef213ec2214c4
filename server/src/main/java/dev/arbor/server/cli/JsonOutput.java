package dev.arbor.server.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import java.io.PrintWriter;
import java.util.List;

/**
 * Prints messages in the protobuf JSON mapping (lowerCamelCase names, int64 as strings) to a
 * command's standard output, pretty or compact. Lists are wrapped in an object with one named
 * array that is always present, so scripts need no special case for "nothing found".
 */
final class JsonOutput {
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().omittingInsignificantWhitespace();
  // Small result messages ({"deleted": false}) would print as {} without their defaults.
  private static final JsonFormat.Printer PRINTER_WITH_DEFAULTS =
      PRINTER.alwaysPrintFieldsWithNoPresence();

  private final PrintWriter out;
  private final ObjectMapper mapper = new ObjectMapper();
  private final ObjectWriter writer;

  JsonOutput(PrintWriter out, boolean compact) {
    this.out = out;
    // Jackson renders the final document so single messages and lists look alike.
    DefaultIndenter lines = new DefaultIndenter("  ", "\n");
    DefaultPrettyPrinter pretty =
        new DefaultPrettyPrinter()
            .withSeparators(
                Separators.createDefaultInstance()
                    .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                    .withObjectEmptySeparator("")
                    .withArrayEmptySeparator(""));
    pretty.indentArraysWith(lines);
    pretty.indentObjectsWith(lines);
    this.writer = compact ? mapper.writer() : mapper.writer(pretty);
  }

  /** Prints one message; fields at their default value are omitted. */
  void print(MessageOrBuilder message) {
    write(toTree(PRINTER, message));
  }

  /** Prints one message including fields at their default value (for small result messages). */
  void printWithDefaults(MessageOrBuilder message) {
    write(toTree(PRINTER_WITH_DEFAULTS, message));
  }

  /** Prints {@code {"<key>": [ ...messages ]}}. */
  void printList(String key, List<? extends MessageOrBuilder> messages) {
    ObjectNode root = mapper.createObjectNode();
    ArrayNode array = root.putArray(key);
    for (MessageOrBuilder m : messages) {
      array.add(toTree(PRINTER, m));
    }
    write(root);
  }

  private JsonNode toTree(JsonFormat.Printer printer, MessageOrBuilder message) {
    try {
      return mapper.readTree(printer.print(message));
    } catch (InvalidProtocolBufferException | JsonProcessingException e) {
      // Our messages contain no Any fields and JsonFormat emits valid JSON: a bug if reached.
      throw new IllegalStateException("cannot render " + message.getDescriptorForType().getName(), e);
    }
  }

  private void write(JsonNode tree) {
    try {
      out.println(writer.writeValueAsString(tree));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render JSON output", e);
    }
    out.flush();
  }
}
