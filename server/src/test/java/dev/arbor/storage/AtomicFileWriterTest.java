package dev.arbor.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
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
  void fsyncDirectoryOpensTheDirectoryItIsGivenAndChangesNothing() throws IOException {
    Path file = tmp.resolve("kept.bin");
    Files.write(file, utf8("content"));

    assertThatCode(() -> AtomicFileWriter.fsyncDirectory(tmp)).doesNotThrowAnyException();

    try (Stream<Path> s = Files.list(tmp)) {
      assertThat(s.toList()).containsExactly(file);
    }
    assertThat(file).hasContent("content");
    // The sync itself cannot be observed without a crash, but a no-op would not notice a
    // directory that is not there: the rename it is meant to make durable would be lost silently.
    Path missing = tmp.resolve("missing");
    assertThatThrownBy(() -> AtomicFileWriter.fsyncDirectory(missing))
        .isInstanceOf(NoSuchFileException.class)
        .hasMessageContaining(missing.toString());
  }
}
