package dev.arbor.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.storage.format.FileFormat;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code metadata-revision} on disk: the shared format, format 1 still read, damage raises the alarm. */
class RevisionGuardFileTest {
  /** Format 1, as the build of 2648c27 wrote it (fixtures/data-2648c27/metadata-revision). */
  private static final String FORMAT_1 = "#highest etcd revision this node has seen; see 'arbor metadata accept-revision"
      + " --help'\n#Mon Dec 07 07:32:26 UTC 2026\nclusterId=cdf818194e3a8c32\nrevision=15\n";
  private static final long CLUSTER = Long.parseUnsignedLong("cdf818194e3a8c32", 16);

  @TempDir Path dir;

  @Test
  void remembersTheHighestRevisionInTheSharedFormat() throws Exception {
    RevisionGuard g = RevisionGuard.open(dir);
    g.observe(new MetadataRevision(CLUSTER, 20));
    byte[] bytes = Files.readAllBytes(dir.resolve(RevisionGuard.FILE));
    assertThat(FileFormat.unseal(bytes, "f", RevisionGuard.KIND, 2, 2).version()).isEqualTo(RevisionGuard.FORMAT);
    RevisionGuard again = RevisionGuard.open(dir);
    again.observe(new MetadataRevision(CLUSTER, 19));
    assertThat(again.alarm()).hasValueSatisfying(a -> assertThat(a).contains("went back from 20 to 19"));
  }

  @Test
  void formatOneIsReadAndRewrittenOnTheNextChange() throws Exception {
    Files.writeString(dir.resolve(RevisionGuard.FILE), FORMAT_1, StandardCharsets.UTF_8);
    RevisionGuard g = RevisionGuard.open(dir);
    assertThat(g.alarm()).isEmpty();
    g.observe(new MetadataRevision(CLUSTER, 16));
    assertThat(FileFormat.startsWithMagic(Files.readAllBytes(dir.resolve(RevisionGuard.FILE)))).isTrue();
    RevisionGuard again = RevisionGuard.open(dir);
    again.observe(new MetadataRevision(CLUSTER, 15));
    assertThat(again.alarm()).as("16 was remembered").isPresent();
  }

  /**
   * What was seen before is unknown, so a regression could not be noticed: the alarm is raised
   * (metadata may not delete data) rather than the file read as "nothing seen yet".
   */
  @Test
  void aDamagedFileRaisesTheAlarmUntilAccepted() throws Exception {
    RevisionGuard.open(dir).observe(new MetadataRevision(CLUSTER, 20));
    Path f = dir.resolve(RevisionGuard.FILE);
    byte[] good = Files.readAllBytes(f);
    byte[] flipped = good.clone();
    flipped[good.length - 12] ^= 0x04;
    for (byte[] bad : List.of(flipped, Arrays.copyOf(good, good.length - 3), new byte[0],
        FORMAT_1.replace("revision=15", "revisoin=15").getBytes(StandardCharsets.UTF_8),
        FORMAT_1.substring(1).getBytes(StandardCharsets.UTF_8), "clusterId=zz\nrevision=1\n".getBytes())) {
      Files.write(f, bad);
      RevisionGuard g = RevisionGuard.open(dir);
      assertThat(g.alarm()).as("%s", new String(bad, StandardCharsets.UTF_8))
          .hasValueSatisfying(a -> assertThat(a).contains(f.toString()).contains("cannot be checked"));
      assertThat(g.regressed()).isEqualTo(1);
      assertThat(RevisionGuard.open(dir).alarm()).as("persisted").isEqualTo(g.alarm());
      assertThat(RevisionGuard.accept(dir)).isTrue();
      assertThat(RevisionGuard.open(dir).alarm()).isEmpty();
    }
  }
}
