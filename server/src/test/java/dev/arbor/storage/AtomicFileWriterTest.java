package dev.arbor.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFileWriterTest {
  @TempDir Path tmp;

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static long tmpFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).count();
    }
  }

  @Test
  void createsTheFileAndMissingParentDirectories() throws IOException {
    Path target = tmp.resolve("a/b/meta.json");

    AtomicFileWriter.write(target, utf8("{\"v\":1}"));

    assertThat(target).hasContent("{\"v\":1}");
    assertThat(tmpFiles(target.getParent())).isZero();
  }

  @Test
  void replacesExistingContentIncludingWithShorterContent() throws IOException {
    Path target = tmp.resolve("state.bin");
    Files.write(target, utf8("a much longer original content"));

    AtomicFileWriter.write(target, utf8("new"));

    assertThat(Files.readAllBytes(target)).isEqualTo(utf8("new"));
    AtomicFileWriter.write(target, new byte[0]);
    assertThat(Files.size(target)).isZero();
    assertThat(tmpFiles(tmp)).isZero();
    try (Stream<Path> s = Files.list(tmp)) {
      assertThat(s.toList()).containsExactly(target);
    }
  }

  @Test
  void aStaleTempFileFromAnEarlierCrashIsOverwrittenAndRemoved() throws IOException {
    Path target = tmp.resolve("state.bin");
    Files.write(tmp.resolve("state.bin.tmp"), utf8("garbage left by a crash, longer than the content"));

    AtomicFileWriter.write(target, utf8("good"));

    assertThat(target).hasContent("good");
    assertThat(tmpFiles(tmp)).isZero();
  }

  @Test
  void fsyncDirectoryWorksOnAnExistingDirectory() throws IOException {
    AtomicFileWriter.fsyncDirectory(tmp);
  }
}
