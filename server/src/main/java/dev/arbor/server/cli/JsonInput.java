package dev.arbor.server.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The "whole message as JSON" input of a client command: {@code --json TEXT}, {@code --file
 * PATH}, or {@code -} (also {@code --file -}) for standard input. The text is a message in the
 * protobuf JSON mapping; unknown fields are rejected so typos do not pass silently.
 */
final class JsonInput {
  private static final String STDIN = "-";

  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  @Option(names = "--json", paramLabel = "JSON", description = "The request as inline JSON.")
  String json;

  @Option(
      names = "--file",
      paramLabel = "FILE",
      description = "Read the request JSON from FILE ('-' reads standard input).")
  String file;

  @Parameters(
      arity = "0..1",
      paramLabel = "-",
      description = "A lone '-' reads the request JSON from standard input.")
  String dash;

  /** True when the user chose one of the JSON sources. */
  boolean given() {
    return json != null || file != null || dash != null;
  }

  /**
   * Parses the chosen source into {@code builder}. {@code what} names the message in errors
   * ("invalid JSON for property: ...").
   */
  <B extends Message.Builder> B parseInto(B builder, String what) {
    return parse(read(), builder, what);
  }

  /** Parses {@code text} (protobuf JSON mapping) into {@code builder}; one-line errors. */
  static <B extends Message.Builder> B parse(String text, B builder, String what) {
    if (text.isBlank()) {
      throw new CliInputException("invalid JSON for " + what + ": the input is empty");
    }
    try {
      JsonFormat.parser().merge(text, builder);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      // JsonFormat reports syntax errors through wrapped Gson exceptions; show only the reason.
      throw new CliInputException("invalid JSON for " + what + ": " + Messages.oneLine(e));
    }
    return builder;
  }

  /**
   * Rejects a JSON source used together with the field-by-field options {@code flagsGiven}
   * (their names, for the message), and demands one of the two forms.
   */
  /**
   * Names of the field options that were given, from {@code name, value, name, value, ...}: a
   * value counts as given when it is non-null and not an empty collection.
   */
  static List<String> givenFlags(Object... nameThenValue) {
    List<String> given = new ArrayList<>();
    for (int i = 0; i < nameThenValue.length; i += 2) {
      Object v = nameThenValue[i + 1];
      if (v != null && !(v instanceof java.util.Collection<?> c && c.isEmpty())) {
        given.add((String) nameThenValue[i]);
      }
    }
    return given;
  }

  void requireExclusive(List<String> flagsGiven, String flagsForm) {
    if (dash != null && !STDIN.equals(dash)) {
      throw usage("unexpected argument '" + dash + "' (only '-', for standard input, is accepted)");
    }
    List<String> sources = new ArrayList<>();
    if (json != null) {
      sources.add("--json");
    }
    if (file != null) {
      sources.add("--file");
    }
    if (dash != null) {
      sources.add("-");
    }
    if (sources.size() > 1) {
      throw usage("use only one of --json, --file, - (got " + String.join(", ", sources) + ")");
    }
    if (!sources.isEmpty() && !flagsGiven.isEmpty()) {
      throw usage(sources.get(0) + " cannot be combined with " + String.join(", ", flagsGiven));
    }
    if (sources.isEmpty() && flagsGiven.isEmpty()) {
      throw usage("give the request as --json, --file or -, or as " + flagsForm);
    }
  }

  CommandLine.ParameterException usage(String message) {
    return new CommandLine.ParameterException(mixee.commandLine(), message);
  }

  private String read() {
    if (json != null) {
      return json;
    }
    if (dash != null || STDIN.equals(file)) {
      return readStdin();
    }
    try {
      return Files.readString(Path.of(file), StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new CliInputException("cannot read " + file + ": no such file");
    } catch (IOException | RuntimeException e) {
      throw new CliInputException("cannot read " + file + ": " + Messages.oneLine(e));
    }
  }

  private static String readStdin() {
    try {
      InputStream in = System.in;
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new CliInputException("cannot read standard input: " + Messages.oneLine(e));
    }
  }
}
