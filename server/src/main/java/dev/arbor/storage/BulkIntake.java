package dev.arbor.storage;

import dev.arbor.property.GroupIncarnation;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.lucene.codecs.CodecUtil;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.IndexInput;
import org.apache.lucene.store.IndexOutput;

/**
 * The receiving end of one bulk transfer into an empty shard: the sender's files, written in the
 * announced order into a staging directory under the node's {@code bulk-intake/} directory (never
 * inside {@code data/}; emptied at every start, so a crash leaves nothing behind), each fsynced
 * and verified against its Lucene checksum footer as it completes. {@link
 * PropertyStore#attachBulk} then adds them to the shard. While open, the shard records the keys
 * written to it. Closing without attaching deletes the staged files.
 */
public final class BulkIntake implements Closeable {
  /** Lucene file names: no directory part, no lock file. */
  private static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9_.\\-]{1,128}");

  /** What attaching did. */
  public record Attached(long documents, int keysResolved) {}

  private final String group;
  private final int shard;
  private final ShardIndex target;
  private final Optional<GroupIncarnation> incarnation;
  private final Path dir;
  private final FSDirectory staged;
  private final List<ShardFiles.FileSpec> files;
  private int current;
  private IndexOutput out;
  private long written;
  private long bytes;
  private int verified;
  private boolean closed;

  BulkIntake(String group, int shard, ShardIndex target, Optional<GroupIncarnation> incarnation, Path dir,
      List<ShardFiles.FileSpec> files) throws IOException {
    this.group = group;
    this.shard = shard;
    this.target = target;
    this.incarnation = incarnation;
    this.dir = dir;
    this.files = List.copyOf(files);
    Files.createDirectories(dir);
    this.staged = FSDirectory.open(dir);
  }

  /** Null when {@code files} is a plausible commit's file list (segments_N last, once), else why not. */
  static String invalid(List<ShardFiles.FileSpec> files) {
    if (files.isEmpty()) {
      return "no files offered";
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < files.size(); i++) {
      String name = files.get(i).name();
      if (!FILE_NAME.matcher(name).matches() || name.equals("write.lock") || name.startsWith(".")) {
        return "file name '" + name + "' is not a Lucene index file";
      }
      if (!seen.add(name)) {
        return "file '" + name + "' offered twice";
      }
      if (files.get(i).length() <= 0) {
        // Every Lucene file has a header and a checksum footer.
        return "file '" + name + "' is announced with " + files.get(i).length() + " bytes";
      }
      if (name.startsWith("segments_") != (i == files.size() - 1)) {
        return "the commit's segments_N file must come last, once";
      }
    }
    return null;
  }

  public String group() {
    return group;
  }

  public int shard() {
    return shard;
  }

  ShardIndex target() {
    return target;
  }

  Optional<GroupIncarnation> incarnation() {
    return incarnation;
  }

  FSDirectory staged() {
    return staged;
  }

  /** The staging directory (tests, logs). */
  public Path directory() {
    return dir;
  }

  public int fileCount() {
    return files.size();
  }

  /** File bytes received so far. */
  public long bytes() {
    return bytes;
  }

  /** Files complete and verified so far. */
  public int verifiedFiles() {
    return verified;
  }

  public boolean complete() {
    return verified == files.size();
  }

  /**
   * Appends {@code data} to file {@code file} at {@code offset}, which must be where the staged
   * copy ends (files and bytes arrive in order). A file that reaches its announced length is
   * closed, fsynced and verified.
   *
   * @throws IllegalArgumentException out of order or past the announced length
   * @throws org.apache.lucene.index.CorruptIndexException a completed file fails its checksum
   */
  public void write(int file, long offset, byte[] data) throws IOException {
    if (closed) {
      throw new IllegalStateException("bulk intake of " + group + "/" + shard + " is closed");
    }
    if (file != current || file >= files.size()) {
      throw new IllegalArgumentException("bulk chunk of file " + file + " while file " + current + " is expected");
    }
    ShardFiles.FileSpec spec = files.get(file);
    if (offset != written) {
      throw new IllegalArgumentException("bulk chunk of " + spec.name() + " at offset " + offset + ", expected "
          + written);
    }
    if (written + data.length > spec.length()) {
      throw new IllegalArgumentException("bulk chunk past the end of " + spec.name() + " (" + spec.length()
          + " bytes announced)");
    }
    if (out == null) {
      out = staged.createOutput(spec.name(), IOContext.DEFAULT);
    }
    out.writeBytes(data, data.length);
    written += data.length;
    bytes += data.length;
    if (written == spec.length()) {
      completeFile(spec);
    }
  }

  private void completeFile(ShardFiles.FileSpec spec) throws IOException {
    out.close();
    out = null;
    staged.sync(List.of(spec.name()));
    try (IndexInput in = staged.openInput(spec.name(), IOContext.READONCE)) {
      CodecUtil.checksumEntireFile(in);
    }
    verified++;
    current++;
    written = 0;
  }

  /** Deletes the staged files (after attaching: the shard holds links or copies of its own). */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (out != null) {
        out.close();
      }
    } finally {
      target.endIntake();
      staged.close();
      FileTrees.deleteRecursively(dir);
    }
  }
}
