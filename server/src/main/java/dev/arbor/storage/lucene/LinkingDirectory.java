package dev.arbor.storage.lucene;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.store.FilterDirectory;
import org.apache.lucene.store.IOContext;

/**
 * A shard's directory that takes files from another directory on the same file system by hard
 * link instead of a byte copy: {@code IndexWriter.addIndexes(Directory...)} copies every file of
 * the added index through {@link #copyFrom}, and a bulk transfer's staged files (written,
 * fsynced and verified once, never changed: Lucene files are write-once) need not be written a
 * second time. Falls back to Lucene's copy when the source is not a file-system directory or the
 * link fails (another file system, no link support).
 */
public final class LinkingDirectory extends FilterDirectory {
  public LinkingDirectory(FSDirectory in) {
    super(in);
  }

  @Override
  public void copyFrom(Directory from, String src, String dest, IOContext context) throws IOException {
    Path source = fsPath(from);
    if (source != null && in instanceof FSDirectory target) {
      try {
        Files.createLink(target.getDirectory().resolve(dest), source.resolve(src));
        return;
      } catch (UnsupportedOperationException | FileSystemException e) {
        // fall through to the copy
      }
    }
    super.copyFrom(from, src, dest, context);
  }

  private static Path fsPath(Directory d) {
    Directory u = FilterDirectory.unwrap(d);
    return u instanceof FSDirectory fs ? fs.getDirectory() : null;
  }
}
