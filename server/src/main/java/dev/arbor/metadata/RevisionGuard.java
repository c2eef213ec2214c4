package dev.arbor.metadata;

import dev.arbor.storage.SealedFile;
import dev.arbor.storage.format.FileFormat;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices metadata going back in time: remembers, in {@value #FILE} of the node's data directory
 * (so a restart remembers too), the etcd cluster id and the highest revision seen. An answer from
 * another cluster (etcd replaced) or at a lower revision (etcd restored from an old backup) raises
 * an alarm that stays, across restarts, until an operator accepts the new history with
 * {@code arbor metadata accept-revision}: while it is raised, metadata is not trusted to delete
 * data (group deletes only quarantine). A damaged file raises the alarm too: what was seen before
 * is unknown, so a regression could not be noticed.
 *
 * <p>Format 2: the {@link FileFormat} envelope (kind {@value #KIND}) around the properties
 * {@code clusterId} (hex), {@code revision} and, while raised, {@code alarm}, as
 * {@link Properties#store} writes them. Format 1, still read and rewritten in format 2 on the next
 * change: the same properties text without the envelope.
 */
public final class RevisionGuard {
  public static final String FILE = "metadata-revision";
  static final String KIND = "metadata-revision";
  static final int FORMAT = 2;
  private static final String COMMENT =
      "highest etcd revision this node has seen; see 'arbor metadata accept-revision --help'";
  private static final Logger LOG = LoggerFactory.getLogger(RevisionGuard.class);

  private final SealedFile file;
  private long clusterId;
  private long revision;
  private String alarm;

  private RevisionGuard(SealedFile file, long clusterId, long revision, String alarm) {
    this.file = file;
    this.clusterId = clusterId;
    this.revision = revision;
    this.alarm = alarm;
  }

  /** The guard of data directory {@code dataDir}, with what it remembers. */
  public static RevisionGuard open(Path dataDir) throws IOException {
    SealedFile f = new SealedFile(dataDir.resolve(FILE), KIND, FORMAT);
    RevisionGuard g;
    try {
      Optional<FileFormat.Sealed> s = f.read();
      if (s.isEmpty()) {
        return new RevisionGuard(f, 0, 0, null);
      }
      Properties p = parse(f.path(), s.get());
      g = new RevisionGuard(f, Long.parseUnsignedLong(p.getProperty("clusterId"), 16),
          Long.parseLong(p.getProperty("revision")), p.getProperty("alarm"));
    } catch (IOException | RuntimeException e) {
      g = new RevisionGuard(f, 0, 0, f.path() + " is unreadable or damaged (" + e.getMessage() + "), so whether"
          + " metadata went back in time cannot be checked");
      g.persist();
    }
    if (g.alarm != null) {
      LOG.error("METADATA NOT TRUSTED: {}. Group deletes only quarantine data until an"
          + " operator runs 'arbor metadata accept-revision --data-dir {}' with the node stopped", g.alarm, dataDir);
    }
    return g;
  }

  private static Properties parse(Path file, FileFormat.Sealed s) throws IOException {
    String text = new String(s.body(), StandardCharsets.UTF_8);
    // Format 1 has no checksum: at least it must be what Properties.store wrote, with both values.
    if (s.version() == SealedFile.LEGACY && !text.startsWith("#" + COMMENT + "\n")) {
      throw new IOException(file + " is not a metadata-revision file");
    }
    Properties p = new Properties();
    p.load(new StringReader(text));
    if (p.getProperty("clusterId") == null || p.getProperty("revision") == null) {
      throw new IOException(file + " lacks clusterId or revision");
    }
    return p;
  }

  /** Forgets what the data directory remembers: the next metadata seen is accepted as is. */
  public static boolean accept(Path dataDir) throws IOException {
    return Files.deleteIfExists(dataDir.resolve(FILE));
  }

  /** Checks one answer of etcd against what was seen before. */
  public synchronized void observe(MetadataRevision seen) {
    if (alarm != null) {
      return;
    }
    if (clusterId != 0 && seen.clusterId() != clusterId) {
      raise("etcd cluster id changed from " + Long.toHexString(clusterId) + " to "
          + Long.toHexString(seen.clusterId()) + " (etcd replaced?); highest revision seen " + revision, seen);
    } else if (seen.revision() < revision) {
      raise("etcd revision went back from " + revision + " to " + seen.revision()
          + " (etcd restored from an older backup?)", seen);
    } else if (seen.revision() > revision || clusterId == 0) {
      clusterId = seen.clusterId();
      revision = seen.revision();
      persist();
    }
  }

  /** Why metadata is not trusted to delete data, or empty. */
  public synchronized Optional<String> alarm() {
    return Optional.ofNullable(alarm);
  }

  /** 1 while the alarm is raised (a gauge). */
  public double regressed() {
    return alarm().isPresent() ? 1 : 0;
  }

  private void raise(String why, MetadataRevision seen) {
    alarm = why;
    LOG.error("METADATA WENT BACK IN TIME: {}. This node stops deleting data on metadata changes (groups that"
        + " vanish or are deleted are quarantined). Check etcd; once its state is right, stop the node and run"
        + " 'arbor metadata accept-revision --data-dir {}'", why, file.path().getParent());
    persist();
  }

  private void persist() {
    Properties p = new Properties();
    p.setProperty("clusterId", Long.toHexString(clusterId));
    p.setProperty("revision", Long.toString(revision));
    if (alarm != null) {
      p.setProperty("alarm", alarm);
    }
    StringWriter w = new StringWriter();
    try {
      p.store(w, COMMENT);
      file.write(w.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file.path() + ": " + e.getMessage(), e);
    }
  }
}
