package dev.arbor.storage;

import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.lucene.index.IndexCommit;
import org.apache.lucene.index.SegmentCommitInfo;
import org.apache.lucene.index.SegmentInfos;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.IndexInput;

/**
 * The files of one held commit of a shard, for a bulk transfer: the commit stays on disk (Lucene
 * deletes none of its files) until this is closed. Files are listed with the commit's segments_N
 * file last, so a receiver's partial copy never holds a commit point.
 */
public final class ShardFiles implements Closeable {
  /** One file of the commit. */
  public record FileSpec(String name, long length) {}

  private final ShardIndex index;
  private final IndexCommit commit;
  private final Directory directory;
  private final List<FileSpec> files;
  private final int layout;
  private final long documents;
  private boolean closed;

  private ShardFiles(ShardIndex index, IndexCommit commit, Directory directory, List<FileSpec> files, int layout,
      long documents) {
    this.index = index;
    this.commit = commit;
    this.directory = directory;
    this.files = files;
    this.layout = layout;
    this.documents = documents;
  }

  static ShardFiles of(ShardIndex index, IndexCommit commit, Directory directory) throws IOException {
    List<FileSpec> files = new ArrayList<>();
    String segments = commit.getSegmentsFileName();
    for (String name : commit.getFileNames()) {
      if (!name.equals(segments)) {
        files.add(new FileSpec(name, directory.fileLength(name)));
      }
    }
    files.sort(java.util.Comparator.comparing(FileSpec::name));
    files.add(new FileSpec(segments, directory.fileLength(segments)));
    SegmentInfos infos = SegmentInfos.readCommit(directory, segments);
    long live = 0;
    for (SegmentCommitInfo sci : infos) {
      live += sci.info.maxDoc() - sci.getDelCount() - sci.getSoftDelCount();
    }
    String stamp = commit.getUserData().get(IndexLayout.KEY);
    int layout = stamp == null ? 1 : Integer.parseInt(stamp);
    return new ShardFiles(index, commit, directory, List.copyOf(files), layout, live);
  }

  public List<FileSpec> files() {
    return files;
  }

  /** The document layout stamped in the commit ({@code arbor.layout}). */
  public int layout() {
    return layout;
  }

  /** Live documents of the commit. */
  public long documents() {
    return documents;
  }

  public long totalBytes() {
    return files.stream().mapToLong(FileSpec::length).sum();
  }

  /** The first key of the commit that {@code belongs} rejects (a misrouted copy), or null. */
  public String firstKeyNotMatching(java.util.function.Predicate<String> belongs) throws IOException {
    try (org.apache.lucene.index.DirectoryReader r = index.openCommitReader(commit)) {
      return CommitKeys.firstNotMatching(r, belongs);
    }
  }

  /** Opens one of the commit's files for sequential reading. */
  public IndexInput open(String name) throws IOException {
    return directory.openInput(name, IOContext.READONCE);
  }

  @Override
  public void close() throws IOException {
    if (!closed) {
      closed = true;
      index.releaseSnapshot(commit);
    }
  }
}
