package dev.arbor.metadata;

import dev.arbor.storage.AtomicFileWriter;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
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
 * data (group deletes only quarantine).
 */
public final class RevisionGuard {
  public static final String FILE = "metadata-revision";
  private static final Logger LOG = LoggerFactory.getLogger(RevisionGuard.class);

  private final Path file;
  private long clusterId;
  private long revision;
  private String alarm;

  private RevisionGuard(Path file, long clusterId, long revision, String alarm) {
    this.file = file;
    this.clusterId = clusterId;
    this.revision = revision;
    this.alarm = alarm;
  }

  /** The guard of data directory {@code dataDir}, with what it remembers. */
  public static RevisionGuard open(Path dataDir) throws IOException {
    Path f = dataDir.resolve(FILE);
    Properties p = new Properties();
    try {
      p.load(new StringReader(Files.readString(f, StandardCharsets.UTF_8)));
    } catch (NoSuchFileException e) {
      return new RevisionGuard(f, 0, 0, null);
    }
    RevisionGuard g = new RevisionGuard(f, Long.parseUnsignedLong(p.getProperty("clusterId", "0"), 16),
        Long.parseLong(p.getProperty("revision", "0")), p.getProperty("alarm"));
    if (g.alarm != null) {
      LOG.error("METADATA NOT TRUSTED (raised before this start): {}. Group deletes only quarantine data until an"
          + " operator runs 'arbor metadata accept-revision --data-dir {}' with the node stopped", g.alarm, dataDir);
    }
    return g;
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
        + " 'arbor metadata accept-revision --data-dir {}'", why, file.getParent());
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
      p.store(w, "highest etcd revision this node has seen; see 'arbor metadata accept-revision --help'");
      AtomicFileWriter.write(file, w.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}
