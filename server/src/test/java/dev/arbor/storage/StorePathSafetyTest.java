package dev.arbor.storage;

import static dev.arbor.storage.StorageTestSupport.live;
import static dev.arbor.storage.StorageTestSupport.put;
import static dev.arbor.storage.StorageTestSupport.str;
import static dev.arbor.storage.StorageTestSupport.tag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Below every validator, the store itself refuses a group name that would put a path outside its
 * data root (a delete of group {@code ..} once removed the node's whole directory), and it starts
 * around entries it did not write instead of failing or deleting them.
 */
class StorePathSafetyTest {
  @TempDir Path dir;

  private static final EntityKey KEY = new EntityKey("g", "s", "id-1");

  @Test
  void dropOfAGroupNamedDotDotIsRefusedAndDeletesNothing() throws IOException {
    PropertyRecord r = live(KEY, 10, tag("a", str("v")));
    try (PropertyStore store = PropertyStore.open(dir, g -> true)) {
      put(store, "g", 0, r);
      for (String bad : List.of("..", ".", "../data", "g/../..", "")) {
        assertThatThrownBy(() -> store.dropGroup(bad))
            .as("drop of %s", bad).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> store.shard(bad, 0))
            .as("shard of %s", bad).isInstanceOf(InvalidArgumentException.class);
      }
      assertThat(dir.resolve("wal")).isDirectory();
      assertThat(dir.resolve("arbor.lock")).isRegularFile();
      assertThat(store.latest("g", 0, KEY)).isEqualTo(r);
    }
    try (PropertyStore store = PropertyStore.open(dir, g -> true)) {
      assertThat(store.latest("g", 0, KEY)).as("after restart").isEqualTo(r);
    }
  }

  @Test
  void negativeShardIsRefused() throws IOException {
    try (PropertyStore store = PropertyStore.open(dir, g -> true)) {
      assertThatThrownBy(() -> store.shard("g", -1)).isInstanceOf(InvalidArgumentException.class)
          .hasMessageContaining("shard");
    }
  }

  @Test
  void startupToleratesAndKeepsStrayEntries() throws IOException {
    PropertyRecord r = live(KEY, 10, tag("a", str("v")));
    try (PropertyStore store = PropertyStore.open(dir, g -> true)) {
      put(store, "g", 1, r);
    }
    Path data = dir.resolve("data");
    List<Path> strays = List.of(
        data.resolve("g").resolve("shard-x"),
        data.resolve("g").resolve("shard-"),
        data.resolve("g").resolve("shard-01"),
        data.resolve("g").resolve("shard-99999999999"),
        data.resolve(".hidden"),
        data.resolve("not a group"));
    for (Path p : strays) {
      Files.createDirectories(p);
      Files.writeString(p.resolve("note"), "kept");
    }
    Files.writeString(data.resolve("g").resolve("README"), "a file, not a shard");

    try (PropertyStore store = PropertyStore.open(dir, g -> true)) {
      assertThat(store.latest("g", 1, KEY)).isEqualTo(r);
      assertThat(store.allShards()).extracting(ShardIndex::shard).containsExactly(1);
    }
    for (Path p : strays) {
      assertThat(p.resolve("note")).as("stray %s", p).hasContent("kept");
    }
  }

  @Test
  void shardDirsParseOnlyWhatArborWrites() throws IOException {
    Path root = dir.resolve("r");
    for (String n : List.of("shard-0", "shard-7", "shard-x", "shard-01", "shard--1", "shard-", "other")) {
      Files.createDirectories(root.resolve(n));
    }
    assertThat(ShardDirs.shardOf(root.resolve("shard-0"))).isZero();
    assertThat(ShardDirs.shardOf(root.resolve("shard-7"))).isEqualTo(7);
    for (String n : List.of("shard-x", "shard-01", "shard--1", "shard-", "other")) {
      assertThat(ShardDirs.shardOf(root.resolve(n))).as(n).isNull();
    }
    assertThat(ShardDirs.of(root, "g", 3)).isEqualTo(root.toAbsolutePath().normalize().resolve("g").resolve("shard-3"));
    assertThatThrownBy(() -> ShardDirs.of(root, "..", 0)).isInstanceOf(InvalidArgumentException.class);
  }
}
