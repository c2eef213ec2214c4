package dev.arbor.simulation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The simulated disk's page cache: what a power loss keeps of writes, fsyncs, renames and deletes. */
class SimDiskTest {
  @TempDir
  Path tmp;

  private final SimDisk disk = new SimDisk();

  private Path root() throws IOException {
    Path real = Files.createDirectories(tmp.resolve("node"));
    return disk.path(real);
  }

  private static FileChannel create(Path p) throws IOException {
    return FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
  }

  private static void write(FileChannel ch, String text) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  private static void syncDir(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  private Path image() throws IOException {
    Path out = tmp.resolve("image");
    disk.powerImage(tmp.resolve("node"), out);
    return out;
  }

  @Test
  void aPowerLossKeepsWhatTheLastFsyncCoveredAndNothingNamedInAnUnsyncedDirectory() throws IOException {
    Path root = root();
    try (FileChannel ch = create(root.resolve("log"))) {
      write(ch, "synced ");
      ch.force(false);
      write(ch, "unsynced");
    }
    syncDir(root);
    Files.write(root.resolve("never-named"), "x".getBytes(StandardCharsets.UTF_8));
    try (FileChannel ch = FileChannel.open(root.resolve("never-named"), StandardOpenOption.WRITE)) {
      ch.force(false);
    }
    Path img = image();
    assertThat(Files.readString(img.resolve("log"))).isEqualTo("synced ");
    assertThat(img.resolve("never-named")).as("its data was synced, its name never was").doesNotExist();
    assertThat(Files.readString(root.resolve("log"))).as("the page cache still holds it").isEqualTo("synced unsynced");
  }

  @Test
  void aRenameIsDurableOnlyOnceItsDirectoryIsSynced() throws IOException {
    Path root = root();
    Files.write(root.resolve("target"), "old".getBytes(StandardCharsets.UTF_8));
    try (FileChannel ch = FileChannel.open(root.resolve("target"), StandardOpenOption.WRITE)) {
      ch.force(false);
    }
    syncDir(root);
    try (FileChannel ch = create(root.resolve("tmp"))) {
      write(ch, "new");
      ch.force(false);
    }
    Files.move(root.resolve("tmp"), root.resolve("target"), StandardCopyOption.ATOMIC_MOVE);
    Path before = image();
    assertThat(Files.readString(before.resolve("target"))).isEqualTo("old");
    assertThat(before.resolve("tmp")).as("created but its directory never synced").doesNotExist();
    syncDir(root);
    Path after = tmp.resolve("image2");
    disk.powerImage(tmp.resolve("node"), after);
    assertThat(Files.readString(after.resolve("target"))).isEqualTo("new");
  }

  @Test
  void aDeleteNotMadeDurableBringsTheFileBack() throws IOException {
    Path root = root();
    try (FileChannel ch = create(root.resolve("segment"))) {
      write(ch, "frames");
      ch.force(false);
    }
    syncDir(root);
    Files.delete(root.resolve("segment"));
    assertThat(Files.readString(image().resolve("segment"))).isEqualTo("frames");
  }

  @Test
  void pagesAFailedFsyncDroppedAreLostEvenAfterALaterFsyncSucceeds() throws IOException {
    Path root = root();
    try (FileChannel ch = create(root.resolve("wal"))) {
      write(ch, "acked|");
      ch.force(false);
      write(ch, "dropped|");
      disk.failFsyncs(p -> true);
      assertThatThrownBy(() -> ch.force(false)).isInstanceOf(IOException.class).hasMessageContaining("Input/output");
      disk.failFsyncs(null);
      write(ch, "after");
      ch.force(false);
    }
    syncDir(root);
    assertThat(Files.readString(image().resolve("wal"))).isEqualTo("acked|\0\0\0\0\0\0\0\0after");
    assertThat(disk.failedFsyncs()).isEqualTo(1);
  }
}
