package dev.arbor.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.property.HybridClock;
import dev.arbor.storage.format.FileFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code metadata.bin}: the format-1 file of the 95b71fe fixture is read, and the next change
 * writes format 2 (the shared header and footer), which reads back; damage and a newer format are
 * refused with their reason.
 */
class EmbeddedMetadataFileTest {
  @TempDir Path dir;

  private static Group group(String name) {
    return Group.newBuilder()
        .setMetadata(Metadata.newBuilder().setName(name))
        .setResourceOpts(ResourceOpts.newBuilder().setShardNum(1))
        .build();
  }

  @Test
  void oldFormatIsReadAndTheNextChangeWritesTheNewOne() throws Exception {
    Path file = dir.resolve("metadata.bin");
    Files.copy(Path.of(getClass().getResource("/fixtures/data-95b71fe/meta/metadata.bin").toURI()), file);
    assertThat(FileFormat.startsWithMagic(Files.readAllBytes(file))).isFalse();

    EmbeddedMetadataStore old = EmbeddedMetadataStore.open(dir, HybridClock.system());
    assertThat(old.groups()).extracting(g -> g.getMetadata().getName()).containsExactly("cfg", "ui");
    assertThat(old.schemas("ui")).hasSize(1);
    old.createGroup(group("more"));

    byte[] rewritten = Files.readAllBytes(file);
    assertThat(FileFormat.startsWithMagic(rewritten)).isTrue();
    assertThat(FileFormat.unseal(rewritten, "m", EmbeddedMetadataStore.KIND, 2, 2).version()).isEqualTo(2);
    EmbeddedMetadataStore reopened = EmbeddedMetadataStore.open(dir, HybridClock.system());
    assertThat(reopened.groups()).extracting(g -> g.getMetadata().getName()).containsExactly("cfg", "more", "ui");
    assertThat(reopened.schemas("ui")).isEqualTo(old.schemas("ui"));
  }

  @Test
  void corruptOrNewerFileIsRefusedWithItsReason() throws Exception {
    EmbeddedMetadataStore.open(dir, HybridClock.system()).createGroup(group("g"));
    Path file = dir.resolve("metadata.bin");
    byte[] good = Files.readAllBytes(file);

    byte[] corrupt = good.clone();
    corrupt[corrupt.length / 2] ^= 0x10;
    Files.write(file, corrupt);
    assertThatThrownBy(() -> EmbeddedMetadataStore.open(dir, HybridClock.system()))
        .hasMessage(file + ": checksum mismatch (file is corrupt)");

    byte[] newer = good.clone();
    byte[] header = FileFormat.header(EmbeddedMetadataStore.KIND, 3);
    System.arraycopy(header, 0, newer, 0, header.length);
    Files.write(file, newer);
    assertThatThrownBy(() -> EmbeddedMetadataStore.open(dir, HybridClock.system()))
        .hasMessage(file + ": format version 3 is newer than this build supports (max 2); upgrade Arbor");
  }
}
