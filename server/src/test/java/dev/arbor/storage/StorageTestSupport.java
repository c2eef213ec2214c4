package dev.arbor.storage;

import com.google.protobuf.Timestamp;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.model.v1.Int;
import dev.arbor.api.banyandb.model.v1.IntArray;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.StrArray;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;

/** Builders shared by the storage tests: real property bytes, key updates, directory copies. */
final class StorageTestSupport {
  private StorageTestSupport() {}

  static TagValue str(String s) {
    return TagValue.newBuilder().setStr(Str.newBuilder().setValue(s)).build();
  }

  static TagValue i64(long v) {
    return TagValue.newBuilder().setInt(Int.newBuilder().setValue(v)).build();
  }

  static TagValue strs(String... s) {
    return TagValue.newBuilder().setStrArray(StrArray.newBuilder().addAllValue(List.of(s))).build();
  }

  static TagValue i64s(Long... v) {
    return TagValue.newBuilder().setIntArray(IntArray.newBuilder().addAllValue(List.of(v))).build();
  }

  static TagValue ts(long nanos) {
    return TagValue.newBuilder()
        .setTimestamp(
            Timestamp.newBuilder()
                .setSeconds(Math.floorDiv(nanos, 1_000_000_000L))
                .setNanos((int) Math.floorMod(nanos, 1_000_000_000L)))
        .build();
  }

  static Tag tag(String key, TagValue v) {
    return Tag.newBuilder().setKey(key).setValue(v).build();
  }

  /** Canonical property bytes the way the liaison builds them. */
  static byte[] propertyBytes(EntityKey key, long rev, long createRev, List<Tag> tags) {
    return Property.newBuilder()
        .setMetadata(
            Metadata.newBuilder()
                .setGroup(key.group())
                .setName(key.name())
                .setCreateRevision(createRev)
                .setModRevision(rev))
        .setId(key.id())
        .addAllTags(tags)
        .build()
        .toByteArray();
  }

  static PropertyRecord live(EntityKey key, long rev, Tag... tags) {
    return PropertyRecord.live(key, rev, rev, propertyBytes(key, rev, rev, List.of(tags)));
  }

  /** A decision that stores {@code next} (or nothing when null) and returns {@code result}. */
  static <R> PropertyStore.KeyUpdate<R> decision(PropertyRecord next, R result) {
    return new PropertyStore.KeyUpdate<>() {
      @Override
      public PropertyRecord next() {
        return next;
      }

      @Override
      public R result() {
        return result;
      }
    };
  }

  /** Unconditionally stores {@code r} in (group, shard). */
  static void put(PropertyStore store, String group, int shard, PropertyRecord r) {
    store.update(group, shard, r.key(), prev -> decision(r, null));
  }

  /** Copies a directory tree, as a crash would leave it (the copied lock file is not locked). */
  static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : walk.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  /** Every payload the recovered log replays, in order (tests only: the store streams them). */
  static List<byte[]> payloads(WriteAheadLog.Recovered rec) throws IOException {
    List<byte[]> out = new java.util.ArrayList<>();
    rec.replay((segment, offset, payload) -> out.add(payload));
    return out;
  }

  static List<Path> walSegments(Path walDir) throws IOException {
    try (Stream<Path> s = Files.list(walDir)) {
      return s.filter(p -> p.getFileName().toString().matches("wal-\\d{20}\\.log")).sorted().toList();
    }
  }
}
