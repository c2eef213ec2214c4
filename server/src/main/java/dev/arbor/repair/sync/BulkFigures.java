package dev.arbor.repair.sync;

/**
 * What a bulk transfer moved.
 *
 * @param files Lucene files sent
 * @param bytes file bytes sent
 * @param documents live documents the receiver holds after attaching
 * @param keysResolved keys written on the receiver meanwhile that were decided again
 */
public record BulkFigures(int files, long bytes, long documents, long keysResolved) {
  public static final BulkFigures NONE = new BulkFigures(0, 0, 0, 0);

  public boolean used() {
    return files > 0;
  }
}
