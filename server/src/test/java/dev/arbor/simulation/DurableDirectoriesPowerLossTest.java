package dev.arbor.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.storage.DurableDirectories;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A power loss cannot be produced on this machine, so this runs on the simulation's disk model
 * ({@link SimDisk}), which keeps a new directory entry only once its parent was fsynced, as POSIX
 * does: a file fsynced in a directory made by {@link Files#createDirectories} is gone after the
 * power loss (the whole directory is), one in a directory made by {@link DurableDirectories}
 * survives. Seeds 13, 25 and 38 of the simulation lost acknowledged writes this way: the server
 * made its write-ahead log's directory with the former.
 */
class DurableDirectoriesPowerLossTest {
  @TempDir
  Path tmp;

  private Path fsyncedFileIn(Path dir) throws IOException {
    Path f = dir.resolve("wal-1.log");
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap("acknowledged".getBytes(StandardCharsets.UTF_8)));
      ch.force(false);
    }
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
    return f;
  }

  private Path afterPowerLoss(SimDisk disk, String name) throws IOException {
    Path image = tmp.resolve(name + "-image");
    disk.powerImage(tmp.resolve(name), image);
    return image;
  }

  @Test
  void aDirectoryMadeDurablyKeepsItsFsyncedFilesThroughAPowerLoss() throws IOException {
    SimDisk disk = new SimDisk();
    Path root = disk.path(Files.createDirectories(tmp.resolve("durable")));
    fsyncedFileIn(DurableDirectories.create(root.resolve("data").resolve("wal")));

    Path image = afterPowerLoss(disk, "durable");
    assertThat(image.resolve("data/wal/wal-1.log")).hasContent("acknowledged");
  }

  @Test
  void aDirectoryMadeWithoutSyncingItsParentIsLostWithItsFsyncedFiles() throws IOException {
    SimDisk disk = new SimDisk();
    Path root = disk.path(Files.createDirectories(tmp.resolve("plain")));
    fsyncedFileIn(Files.createDirectories(root.resolve("data").resolve("wal")));

    Path image = afterPowerLoss(disk, "plain");
    assertThat(image.resolve("data")).doesNotExist();
  }

  @Test
  void anExistingDirectoryIsLeftAsItIs() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("exists"));
    assertThat(DurableDirectories.create(dir)).isEqualTo(dir);
    assertThat(dir).isEmptyDirectory();
  }
}
