package dev.arbor.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One server build a benchmark runs: a label for the report (e.g. {@code old}, {@code new}) and
 * its shaded jar. Parsed from {@code --server-jar [LABEL=]JAR}, repeatable: the first build given
 * is the baseline that the others' ratios are taken against.
 */
public record ServerJar(String label, Path jar) {
  private static final Pattern LABELED = Pattern.compile("([A-Za-z][A-Za-z0-9_.-]*)=(.+)");
  /** The label of a build given alone without one (e.g. in the report next to the ceiling). */
  private static final String SOLE = "arbor";

  public ServerJar {
    jar = jar.toAbsolutePath().normalize();
  }

  /**
   * The builds of {@code --server-jar} values in order; none given = the repository's
   * {@code server/target/arbor.jar}. A value without a label gets {@code build<N>} (its position),
   * or {@code arbor} when it is the only one; {@code LABEL=JAR} is taken as a plain path when a
   * file by that whole name exists.
   */
  public static List<ServerJar> parseAll(List<String> specs, Path repo) {
    if (specs == null || specs.isEmpty()) {
      return List.of(new ServerJar(SOLE, repo.resolve("server/target/arbor.jar")));
    }
    List<ServerJar> jars = new ArrayList<>();
    Set<String> labels = new HashSet<>();
    for (String spec : specs) {
      ServerJar j = parse(spec, specs.size() == 1 ? 0 : jars.size() + 1);
      if (!labels.add(j.label())) {
        throw new IllegalArgumentException("--server-jar label '" + j.label()
            + "' given twice; use LABEL=JAR with distinct labels");
      }
      jars.add(j);
    }
    return List.copyOf(jars);
  }

  /** {@code position} 0: the only build given. */
  static ServerJar parse(String spec, int position) {
    Matcher m = LABELED.matcher(spec);
    if (m.matches() && !Files.exists(Path.of(spec))) {
      return new ServerJar(m.group(1), Path.of(m.group(2)));
    }
    return new ServerJar(position == 0 ? SOLE : "build" + position, Path.of(spec));
  }

  /**
   * The labels of {@code --tls-builds}: each must name one of {@code jars}.
   *
   * @throws IllegalArgumentException naming a label that is not a build of this run
   */
  public static Set<String> tlsLabels(List<String> requested, List<ServerJar> jars) {
    Set<String> known = new HashSet<>(labels(jars));
    Set<String> tls = new java.util.LinkedHashSet<>();
    for (String label : requested == null ? List.<String>of() : requested) {
      if (!known.contains(label)) {
        throw new IllegalArgumentException("--tls-builds names '" + label + "', which is not a"
            + " --server-jar label of this run (labels: " + String.join(", ", labels(jars)) + ")");
      }
      tls.add(label);
    }
    return Set.copyOf(tls);
  }

  /** The labels of several builds, for headers such as "old vs new". */
  public static List<String> labels(List<ServerJar> jars) {
    return jars.stream().map(ServerJar::label).toList();
  }
}
