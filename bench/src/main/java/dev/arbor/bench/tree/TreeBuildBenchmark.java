package dev.arbor.bench.tree;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.management.GarbageCollectionNotificationInfo;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.repair.tree.BuildResult;
import dev.arbor.repair.tree.RepairTrees;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardWrite;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * Repair-tree build benchmark: loads N properties of a given size into one shard through the
 * storage layer, then builds the shard's tree in a fresh child JVM with a small fixed heap,
 * reporting build time (median of several forced builds) and the largest live heap seen after
 * any GC during the builds. Not a test; run through {@code BenchMain tree}.
 */
public final class TreeBuildBenchmark {
  static final String GROUP = "bench";

  private TreeBuildBenchmark() {}

  /** Loads the data set (skipped when {@code dir} already holds N properties). */
  static void load(Path dir, int n, int size, long seed) throws Exception {
    Path marker = dir.resolve("loaded-" + n + "-" + size);
    if (Files.exists(marker)) {
      return;
    }
    Random rnd = new Random(seed);
    char[] alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".toCharArray();
    try (PropertyStore store = PropertyStore.open(dir, g -> true)) {
      int batch = 1000;
      long rev = 1_700_000_000_000_000_000L;
      for (int i = 0; i < n; i += batch) {
        List<ShardWrite> writes = new ArrayList<>(batch);
        for (int j = i; j < Math.min(n, i + batch); j++) {
          char[] data = new char[size];
          for (int k = 0; k < size; k++) {
            data[k] = alphabet[rnd.nextInt(alphabet.length)];
          }
          EntityKey key = new EntityKey(GROUP, "doc", String.format("id-%09d", j));
          long r = ++rev;
          Property p = Property.newBuilder()
              .setMetadata(Metadata.newBuilder().setGroup(GROUP).setName("doc").setCreateRevision(r).setModRevision(r))
              .setId(key.id())
              .addTags(Tag.newBuilder().setKey("data").setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue(new String(data)))))
              .build();
          writes.add(new ShardWrite(GROUP, 0, PropertyRecord.live(key, r, r, p.toByteArray())));
        }
        store.applyIfNewer(writes);
      }
      store.checkpoint();
    }
    Files.writeString(marker, "ok");
  }

  /** Child-JVM entry: builds the tree {@code runs} times and prints one JSON line. */
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int runs = Integer.parseInt(args[1]);
    AtomicLong maxLiveAfterGc = new AtomicLong();
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      ((NotificationEmitter) gc).addNotificationListener((notification, handback) -> {
        if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
          return;
        }
        GarbageCollectionNotificationInfo info =
            GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
        long used = info.getGcInfo().getMemoryUsageAfterGc().values().stream().mapToLong(MemoryUsage::getUsed).sum();
        maxLiveAfterGc.accumulateAndGet(used, Math::max);
      }, null, null);
    }
    List<Double> millis = new ArrayList<>();
    long leaves = -1;
    String root = "";
    try (PropertyStore store = PropertyStore.open(dir, g -> true);
        RepairTrees trees = new RepairTrees(dir.resolve("repair"), store, 32)) {
      for (int i = 0; i < runs; i++) {
        System.gc();
        BuildResult r = trees.build(GROUP, 0, true);
        if (r.outcome() != BuildResult.Outcome.BUILT) {
          throw new IllegalStateException("build failed: " + r);
        }
        millis.add(r.durationNanos() / 1e6);
        leaves = r.summary().leafCount();
        root = r.summary().rootHex();
      }
    }
    List<Double> sorted = new ArrayList<>(millis);
    sorted.sort(Double::compare);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("leaves", leaves);
    out.put("runsMs", millis);
    out.put("medianMs", sorted.get(sorted.size() / 2));
    out.put("maxLiveHeapAfterGcBytes", maxLiveAfterGc.get());
    out.put("maxHeapBytes", Runtime.getRuntime().maxMemory());
    out.put("root", root);
    System.out.println(new ObjectMapper().writeValueAsString(out));
  }
}
