package dev.arbor.storage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.property.GroupIncarnation;
import dev.arbor.storage.format.FileFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A quarantine entry's {@value Quarantine#INFO}: the shared format; a damaged one keeps its data. */
class QuarantineFileTest {
  @TempDir Path dir;

  @Test
  void anEntryIsDescribedInTheSharedFormatAndADamagedOneIsNeverPurged() throws Exception {
    GroupIncarnation inc = GroupIncarnation.random();
    Files.createDirectories(dir.resolve("data/g/shard-0"));
    Files.writeString(dir.resolve("data/g/shard-0/segments_1"), "index");
    Quarantine q = new Quarantine(dir);
    Instant at = Instant.parse("2026-01-02T03:04:05Z");
    QuarantineEntry e = q.admit("g", Optional.of(inc), "why", at);
    Path info = e.dir().resolve(Quarantine.INFO);
    assertThat(FileFormat.unseal(Files.readAllBytes(info), "i", Quarantine.INFO_KIND, 2, 2).version())
        .isEqualTo(Quarantine.INFO_FORMAT);
    assertThat(q.list()).singleElement().satisfies(x -> {
      assertThat(x.group()).isEqualTo("g");
      assertThat(x.incarnation()).contains(inc);
      assertThat(x.at()).isEqualTo(at);
      assertThat(x.reason()).isEqualTo("why");
    });

    byte[] b = Files.readAllBytes(info);
    b[b.length / 2] ^= 0x20;
    Files.write(info, b);
    assertThat(q.list()).as("unreadable: not listed").isEmpty();
    assertThat(q.purgeOlderThan(Instant.parse("2100-01-01T00:00:00Z"))).isEmpty();
    assertThat(e.dir().resolve("data/shard-0/segments_1")).as("never purged").exists();
    assertThat(q.count()).isEqualTo(1);
  }
}
