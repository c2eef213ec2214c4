package dev.arbor.storage;

import static dev.arbor.storage.StorageTestSupport.live;
import static dev.arbor.storage.StorageTestSupport.str;
import static dev.arbor.storage.StorageTestSupport.tag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.Bits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shard indexes carry their layout in every commit; an index of layout 1 (written by commit
 * 95b71fe, from the committed fixture) is migrated in place with every record intact, a migration
 * interrupted before its commit leaves the old index to migrate again, and a newer layout is refused.
 */
class IndexLayoutTest {
  @TempDir Path tmp;

  private Path fixtureShard() throws Exception {
    Path src = Path.of(IndexLayoutTest.class.getResource("/fixtures/data-95b71fe/data/ui/shard-0").toURI());
    Path dst = tmp.resolve("shard-0");
    StorageTestSupport.copyTree(src, dst);
    return dst;
  }

  /** Every live record of the index, read with the given layout's reader. */
  private static Map<String, PropertyRecord> records(Path dir, boolean legacy) throws Exception {
    Map<String, PropertyRecord> out = new java.util.TreeMap<>();
    try (FSDirectory d = FSDirectory.open(dir); DirectoryReader r = DirectoryReader.open(d)) {
      for (LeafReaderContext leaf : r.leaves()) {
        Bits live = leaf.reader().getLiveDocs();
        for (int doc = 0; doc < leaf.reader().maxDoc(); doc++) {
          if (live == null || live.get(doc)) {
            PropertyRecord rec = legacy
                ? LegacyDocuments.fromStored(leaf.reader().storedFields(), doc)
                : DocumentCodec.fromStored(leaf.reader().storedFields(), doc);
            out.put(rec.key().entity(), rec);
          }
        }
      }
    }
    return out;
  }

  private static int layout(Path dir) throws Exception {
    try (FSDirectory d = FSDirectory.open(dir)) {
      return IndexLayout.onDisk(d);
    }
  }

  @Test
  void layout1IndexIsMigratedWithEveryRecordIntact() throws Exception {
    Path dir = fixtureShard();
    assertThat(layout(dir)).isEqualTo(1);
    Map<String, PropertyRecord> before = records(dir, true);
    assertThat(before).isNotEmpty();

    try (ShardIndex index = new ShardIndex("ui", 0, dir)) {
      for (PropertyRecord r : before.values()) {
        assertThat(index.latest(r.key().entity())).isEqualTo(r);
      }
    }
    assertThat(layout(dir)).isEqualTo(DocumentCodec.LAYOUT);
    assertThat(records(dir, false)).isEqualTo(before);
  }

  @Test
  void migrationInterruptedBeforeItsCommitLeavesTheOldIndexAndRunsAgain() throws Exception {
    Path dir = fixtureShard();
    Map<String, PropertyRecord> before = records(dir, true);
    // What a kill during migration leaves: a create-mode writer that added documents and never
    // committed (rollback closes it the way a dead process would, without a commit).
    try (FSDirectory d = FSDirectory.open(dir)) {
      IndexWriter w = new IndexWriter(d, IndexLayout.writerConfig().setOpenMode(IndexWriterConfig.OpenMode.CREATE));
      w.addDocument(DocumentCodec.toDocument(live(new EntityKey("ui", "template", "stray"), 1, tag("title", str("x")))));
      w.flush();
      w.rollback();
    }
    assertThat(layout(dir)).isEqualTo(1);
    assertThat(records(dir, true)).isEqualTo(before);

    try (ShardIndex index = new ShardIndex("ui", 0, dir)) {
      assertThat(index.latest("ui/template/stray")).isNull();
    }
    assertThat(records(dir, false)).isEqualTo(before);
  }

  @Test
  void anIndexOfANewerLayoutIsRefusedNotMisread() throws Exception {
    Path dir = tmp.resolve("newer");
    try (FSDirectory d = FSDirectory.open(dir); IndexWriter w = new IndexWriter(d, IndexLayout.writerConfig())) {
      w.addDocument(DocumentCodec.toDocument(live(new EntityKey("g", "n", "1"), 1, tag("a", str("b")))));
      w.setLiveCommitData(Map.of(IndexLayout.KEY, Integer.toString(DocumentCodec.LAYOUT + 1)).entrySet());
      w.commit();
    }
    assertThatThrownBy(() -> new ShardIndex("g", 0, dir))
        .isInstanceOf(StorageException.class)
        .hasMessageContaining("layout " + (DocumentCodec.LAYOUT + 1))
        .hasMessageContaining("newer build");
  }

  @Test
  void incompressibleSourcesAreStoredRawAndCompressibleOnesCompressedBothReadBack() throws Exception {
    Random rnd = new Random(7);
    System.out.println("seed 7");
    List<PropertyRecord> random = new ArrayList<>();
    List<PropertyRecord> text = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      char[] c = new char[2048];
      for (int j = 0; j < c.length; j++) {
        c[j] = (char) ('!' + rnd.nextInt(90));
      }
      random.add(live(new EntityKey("g", "n", "r" + i), i + 1, tag("data", str(new String(c)))));
      text.add(live(new EntityKey("g", "n", "t" + i), i + 1, tag("data", str("the same sentence again. ".repeat(80)))));
    }
    long randomBytes = storedFieldBytes(tmp.resolve("random"), random);
    long textBytes = storedFieldBytes(tmp.resolve("text"), text);
    long sourceBytes = random.stream().mapToLong(r -> r.source().length).sum();
    // Raw: the sources plus what indexes a record (key, hash, tag prefix): not a compressed size.
    assertThat(randomBytes).isBetween(sourceBytes, sourceBytes + sourceBytes / 4);
    assertThat(textBytes).isLessThan(sourceBytes / 4);
  }

  /** Writes the records, commits, checks each reads back (also after reopening), returns the index's bytes. */
  private static long storedFieldBytes(Path dir, List<PropertyRecord> records) throws Exception {
    try (ShardIndex index = new ShardIndex("g", 0, dir)) {
      for (PropertyRecord r : records) {
        index.put(r);
      }
      index.commit();
      index.refresh();
      for (PropertyRecord r : records) {
        assertThat(index.latest(r.key().entity())).isEqualTo(r);
      }
    }
    try (ShardIndex reopened = new ShardIndex("g", 0, dir)) {
      long generation = reopened.commitGeneration();
      reopened.commit();
      assertThat(reopened.commitGeneration()).as("reopening is not a change").isEqualTo(generation);
      PropertyRecord last = records.get(records.size() - 1);
      assertThat(reopened.latest(last.key().entity())).isEqualTo(last);
      reopened.put(live(new EntityKey("g", "n", "after-reopen"), 1, tag("a", str("b"))));
      reopened.commit();
    }
    assertThat(layout(dir)).as("later commits keep the layout").isEqualTo(DocumentCodec.LAYOUT);
    try (Stream<Path> files = Files.list(dir)) {
      return files.mapToLong(p -> p.toFile().length()).sum();
    }
  }
}
