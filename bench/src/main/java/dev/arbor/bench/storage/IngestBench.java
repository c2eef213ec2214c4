package dev.arbor.bench.storage;

import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.model.v1.Int;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.storage.ApplyOutcome;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardWrite;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * In-process cost of the receiver's storage work in a record-mode repair: a store holding the
 * first half of N properties (committed, as a replica that was down for the second half) takes
 * the second half through {@link PropertyStore#applyEach} in batches the size a repair exchange
 * carries. Prints CPU (whole process: indexing, flushes, merges, the WAL's sync thread) and wall
 * time per stored property. Records are built before timing starts: this measures the store, not
 * gRPC decoding or hashing. One process, one run: compare variants in the same run/machine state.
 */
@Command(name = "ingest", mixinStandardHelpOptions = true,
    description = "In-process record-mode ingest: the receiver's storage cost per repaired property.")
public final class IngestBench implements java.util.concurrent.Callable<Integer> {
  private static final char[] ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789".toCharArray();

  @Option(names = "--properties", defaultValue = "100000", description = "N; the store starts with N/2 (default ${DEFAULT-VALUE})")
  int properties;

  @Option(names = "--size", defaultValue = "2048", description = "characters of the data tag (default ${DEFAULT-VALUE})")
  int size;

  @Option(names = "--batch", defaultValue = "2000", description = "records per applyEach call; a repair exchange carries ~4 MiB (default ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--rounds", defaultValue = "2", description = "rounds on fresh stores; the first warms the JIT (default ${DEFAULT-VALUE})")
  int rounds;

  @Option(names = "--dir", description = "parent of the stores (default: a temporary directory)")
  Path dir;

  @Option(names = "--rss", description = "instead of timing: load N properties, read them all, then scan a"
      + " snapshot as a tree build does, printing the process's file-backed RSS (RssFile) at each step;"
      + " the snapshot reader is opened `shared` (ShardIndex.openCommitReader, what tree builds use) or"
      + " `separate` (DirectoryReader.open(commit), what they used before)")
  String rss;

  public static void main(String[] args) {
    System.exit(new CommandLine(new IngestBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Path parent = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("arbor-ingest");
    List<PropertyRecord> records = new ArrayList<>(properties);
    for (int i = 0; i < properties; i++) {
      records.add(record(i));
    }
    if (rss != null) {
      RssProbe.run(parent, records, batch, rss.equals("shared"));
      return 0;
    }
    int half = properties / 2;
    for (int round = 1; round <= rounds; round++) {
      Path storeDir = parent.resolve("round-" + round);
      try (PropertyStore store = PropertyStore.open(storeDir, g -> true)) {
        apply(store, records.subList(0, half));
        store.checkpoint();
        long cpu0 = processCpuNanos();
        long wall0 = System.nanoTime();
        long stored = apply(store, records.subList(half, properties));
        long cpuIngest = processCpuNanos() - cpu0;
        store.checkpoint();
        long wall = System.nanoTime() - wall0;
        long cpu = processCpuNanos() - cpu0;
        System.out.printf("round %d: %d stored in batches of %d: %.1f us CPU/property (%.1f before the final"
            + " checkpoint), %.1f us wall/property (%.2f s)%n",
            round, stored, batch, cpu / 1e3 / stored, cpuIngest / 1e3 / stored, wall / 1e3 / stored, wall / 1e9);
      }
      System.out.printf("round %d: data directory %.0f bytes/property%n", round,
          (double) Dirs.size(storeDir.resolve("data")) / properties);
      dev.arbor.bench.storage.Dirs.delete(storeDir);
    }
    if (dir == null) {
      dev.arbor.bench.storage.Dirs.delete(parent);
    }
    return 0;
  }

  static long apply(PropertyStore store, List<PropertyRecord> rs, int batch) {
    IngestBench b = new IngestBench();
    b.batch = batch;
    return b.apply(store, rs);
  }

  private long apply(PropertyStore store, List<PropertyRecord> rs) {
    long stored = 0;
    for (int from = 0; from < rs.size(); from += batch) {
      List<ShardWrite> writes = new ArrayList<>(batch);
      for (PropertyRecord r : rs.subList(from, Math.min(rs.size(), from + batch))) {
        writes.add(new ShardWrite(r.key().group(), 0, r));
      }
      for (ApplyOutcome o : store.applyEach(writes)) {
        if (o == ApplyOutcome.STORED) {
          stored++;
        }
      }
    }
    return stored;
  }

  private PropertyRecord record(int i) {
    // Seeded by a mixed value: seeds a multiple of the generator's own gamma apart give shifted copies
    // of one stream, which LZ4 would compress across documents.
    SplittableRandom r = new SplittableRandom(new SplittableRandom(i).nextLong());
    char[] buf = new char[size];
    for (int j = 0; j < buf.length; j++) {
      buf[j] = ALPHABET[r.nextInt(ALPHABET.length)];
    }
    EntityKey key = EntityKey.parse("bench/item/" + String.format("p-%08d", i));
    long rev = 1_700_000_000_000_000_000L + i;
    byte[] source = Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(key.group()).setName(key.name())
            .setCreateRevision(rev).setModRevision(rev))
        .setId(key.id())
        .addTags(Tag.newBuilder().setKey("data").setValue(TagValue.newBuilder().setStr(Str.newBuilder()
            .setValue(new String(buf)))))
        .addTags(Tag.newBuilder().setKey("ts").setValue(TagValue.newBuilder().setInt(Int.newBuilder()
            .setValue(i))))
        .build().toByteArray();
    return PropertyRecord.live(key, rev, rev, source);
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }
}
