package dev.arbor.storage;

import dev.arbor.property.GroupIncarnation;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code <data-dir>/quarantine/}: group data that metadata no longer accounts for, moved aside
 * instead of deleted. Metadata can lose a group without anyone deleting it (etcd restored from an
 * old backup, replaced, or its prefix wiped): only a delete this node observed removes data; every
 * other disappearance lands here, where nothing serves or repairs it, until an operator restores it
 * or it is older than the retention. Moves are renames within the data directory, so nothing is
 * copied and a crash leaves the data in one place or the other.
 *
 * <p>Each entry's {@value #INFO} says what it holds. Format 2: the {@link dev.arbor.storage.format.FileFormat}
 * envelope (kind {@value #INFO_KIND}) around the properties {@code group}, {@code incarnation},
 * {@code quarantinedAt} and {@code reason} as {@link Properties#store} writes them. Format 1, still
 * read: the same text without the envelope. An entry whose file is unreadable is never purged.
 */
public final class Quarantine {
  /** The file in each entry saying what it holds. */
  public static final String INFO = "quarantined.properties";
  static final String INFO_KIND = "quarantine-entry";
  static final int INFO_FORMAT = 2;
  private static final String INFO_COMMENT = "group data set aside by Arbor; see 'arbor quarantine --help'";
  private static final Logger LOG = LoggerFactory.getLogger(Quarantine.class);
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmssSSS'Z'").withZone(ZoneOffset.UTC);

  private final Path root;
  private final Path dataRoot;
  private final Path repairRoot;

  /** The quarantine of the data directory {@code dataDir} (its {@code data/} and {@code repair/}). */
  public Quarantine(Path dataDir) {
    this.root = dataDir.resolve("quarantine");
    this.dataRoot = dataDir.resolve("data");
    this.repairRoot = dataDir.resolve("repair");
  }

  public Path root() {
    return root;
  }

  /**
   * Moves the group's data (and repair trees) into a new entry. The caller makes sure nothing has
   * the group's files open for writing.
   */
  QuarantineEntry admit(String group, Optional<GroupIncarnation> incarnation, String reason, Instant now)
      throws IOException {
    Path groupData = NamedPaths.child(dataRoot, group); // checks the name: it stays under each root
    String incarnationText = incarnation.map(GroupIncarnation::toString).orElse("none");
    Path entry = root.resolve(uniqueName(group + "-" + incarnationText + "-" + STAMP.format(now)));
    DurableDirectories.create(entry);
    Properties info = new Properties();
    info.setProperty("group", group);
    info.setProperty("incarnation", incarnationText);
    info.setProperty("quarantinedAt", now.toString());
    info.setProperty("reason", reason);
    java.io.StringWriter w = new java.io.StringWriter();
    info.store(w, INFO_COMMENT);
    infoFile(entry).write(w.toString().getBytes(StandardCharsets.UTF_8));
    moveIfPresent(groupData, entry.resolve("data"));
    moveIfPresent(NamedPaths.child(repairRoot, group), entry.resolve("repair"));
    AtomicFileWriter.fsyncDirectory(root);
    return read(entry);
  }

  /** Every entry, oldest first; unreadable ones are skipped with a warning. */
  public List<QuarantineEntry> list() {
    List<QuarantineEntry> out = new ArrayList<>();
    if (!Files.isDirectory(root)) {
      return out;
    }
    try (Stream<Path> entries = Files.list(root)) {
      for (Path e : entries.filter(Files::isDirectory).toList()) {
        try {
          out.add(read(e));
        } catch (IOException | RuntimeException ex) {
          LOG.error("quarantine entry {} is unreadable ({}); it is not listed, restored or purged by Arbor and its"
              + " data stays where it is: look at it, then move its data back or delete the entry by hand", e, ex.toString());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    out.sort(Comparator.comparing(QuarantineEntry::at).thenComparing(QuarantineEntry::name));
    return out;
  }

  /** Entries currently held (for the metric). */
  public int count() {
    if (!Files.isDirectory(root)) {
      return 0;
    }
    try (Stream<Path> entries = Files.list(root)) {
      return (int) entries.filter(Files::isDirectory).count();
    } catch (IOException e) {
      return 0;
    }
  }

  /**
   * Moves an entry's data back to {@code data/<group>} (and its trees to {@code repair/<group>}),
   * its incarnation file set to {@code incarnation} (the same, or the re-created group's when
   * adopted). Refused when the group already has data on this node: two copies are never merged
   * by a rename.
   */
  public void restore(QuarantineEntry entry, GroupIncarnation incarnation) throws IOException {
    Path target = NamedPaths.child(dataRoot, entry.group());
    if (Files.exists(target)) {
      throw new StorageException("group " + entry.group() + " already has data on this node (" + target
          + "); restore refused, nothing moved");
    }
    Path data = entry.dir().resolve("data");
    if (!Files.isDirectory(data)) {
      throw new StorageException("quarantine entry " + entry.name() + " holds no data directory");
    }
    IncarnationFile.write(data, incarnation);
    DurableDirectories.create(dataRoot);
    Path trees = entry.dir().resolve("repair");
    if (Files.isDirectory(trees)) {
      Path treeTarget = NamedPaths.child(repairRoot, entry.group());
      // Repair trees are derived from the data: stale ones beside it are rebuilt anyway.
      FileTrees.deleteRecursively(treeTarget);
      if (entry.incarnation().equals(Optional.of(incarnation))) {
        DurableDirectories.create(repairRoot);
        Files.move(trees, treeTarget, StandardCopyOption.ATOMIC_MOVE);
      }
    }
    Files.move(data, target, StandardCopyOption.ATOMIC_MOVE);
    AtomicFileWriter.fsyncDirectory(dataRoot);
    FileTrees.deleteRecursively(entry.dir());
  }

  /** Deletes an entry for good. */
  public void purge(QuarantineEntry entry) throws IOException {
    FileTrees.deleteRecursively(entry.dir());
  }

  /** Deletes the entries set aside before {@code cutoff}; returns them. */
  public List<QuarantineEntry> purgeOlderThan(Instant cutoff) throws IOException {
    List<QuarantineEntry> purged = new ArrayList<>();
    for (QuarantineEntry e : list()) {
      if (e.at().isBefore(cutoff)) {
        purge(e);
        purged.add(e);
      }
    }
    return purged;
  }

  private static SealedFile infoFile(Path entry) {
    return new SealedFile(entry.resolve(INFO), INFO_KIND, INFO_FORMAT);
  }

  private QuarantineEntry read(Path entry) throws IOException {
    dev.arbor.storage.format.FileFormat.Sealed sealed = infoFile(entry).read()
        .orElseThrow(() -> new IOException(entry + " has no " + INFO));
    String text = new String(sealed.body(), StandardCharsets.UTF_8);
    // Format 1 has no checksum: at least it must be what Properties.store wrote.
    if (sealed.version() == SealedFile.LEGACY && !text.startsWith("#" + INFO_COMMENT + "\n")) {
      throw new IOException(entry.resolve(INFO) + " is not a quarantine entry file");
    }
    Properties info = new Properties();
    info.load(new StringReader(text));
    String group = info.getProperty("group");
    if (group == null || !dev.arbor.property.Names.isValidName(group)) {
      throw new IOException(entry.resolve(INFO) + ": no valid group name");
    }
    String inc = info.getProperty("incarnation", "none");
    try {
      Optional<GroupIncarnation> incarnation = inc.equals("none")
          ? Optional.empty() : Optional.of(GroupIncarnation.fromBytes(HexFormat.of().parseHex(inc)));
      return new QuarantineEntry(entry.getFileName().toString(), group, incarnation,
          Instant.parse(String.valueOf(info.getProperty("quarantinedAt"))), info.getProperty("reason", ""), entry);
    } catch (RuntimeException e) {
      throw new IOException(entry.resolve(INFO) + ": invalid incarnation or time: " + e.getMessage(), e);
    }
  }

  /** {@code base}, or {@code base-2}, ... when a directory of that name exists. */
  private String uniqueName(String base) {
    String name = base;
    for (int i = 2; Files.exists(root.resolve(name)); i++) {
      name = base + "-" + i;
    }
    return name;
  }

  private static void moveIfPresent(Path from, Path to) throws IOException {
    if (Files.exists(from)) {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    }
  }
}
