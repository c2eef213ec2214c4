package dev.arbor.bench.storage;

import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.repair.tree.SnapshotLeafScanner;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardIndex;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexCommit;

/**
 * File-backed resident memory of a store holding N properties: after the load, after reading every
 * record (as a repair or a verification does), while a tree build's snapshot scan is open, and
 * after it. A page mapped by two readers of the same segment counts twice in {@code RssFile}.
 */
final class RssProbe {
  private RssProbe() {}

  static void run(Path parent, List<PropertyRecord> records, int batch, boolean shared) throws IOException {
    Path storeDir = parent.resolve("rss");
    print("before the store opens", storeDir);
    try (PropertyStore store = PropertyStore.open(storeDir, g -> true)) {
      IngestBench.apply(store, records, batch);
      store.checkpoint();
      print("loaded and committed", storeDir);
      ShardIndex idx = store.existingShard(records.get(0).key().group(), 0);
      idx.refresh();
      for (int from = 0; from < records.size(); from += 1024) {
        List<EntityKey> keys = new ArrayList<>(1024);
        for (PropertyRecord r : records.subList(from, Math.min(records.size(), from + 1024))) {
          keys.add(r.key());
        }
        store.latestAll(idx.group(), 0, keys);
      }
      print("every record read through the searcher", storeDir);
      IndexCommit commit = idx.snapshot();
      try {
        DirectoryReader reader = shared ? idx.openCommitReader(commit) : DirectoryReader.open(commit);
        long leaves = 0;
        try (SnapshotLeafScanner scan = new SnapshotLeafScanner(reader)) {
          while (scan.next() != null) {
            leaves++;
          }
          print("snapshot scanned (" + leaves + " leaves), reader still open ("
              + (shared ? "shared" : "separate") + ")", storeDir);
        }
        print("snapshot reader closed", storeDir);
      } finally {
        idx.releaseSnapshot(commit);
      }
    }
    Dirs.delete(storeDir);
  }

  private static void print(String step, Path storeDir) throws IOException {
    long data = Files.exists(storeDir.resolve("data")) ? Dirs.size(storeDir.resolve("data")) : 0;
    System.out.printf("%-70s RssFile %6d MiB, RssAnon %6d MiB, data directory %6d MiB%n", step,
        status("RssFile") >> 10, status("RssAnon") >> 10, data >> 20);
  }

  /** A {@code /proc/self/status} field in KiB. */
  private static long status(String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith(field + ":")) {
        return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]);
      }
    }
    return -1;
  }
}
