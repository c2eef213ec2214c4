package dev.arbor.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerJarTest {

  @TempDir Path tmp;

  @Test
  void noneGivenMeansTheRepositorysJar() {
    assertThat(ServerJar.parseAll(List.of(), tmp))
        .containsExactly(new ServerJar("arbor", tmp.resolve("server/target/arbor.jar")));
    assertThat(ServerJar.parseAll(List.of("/x/arbor.jar"), tmp))
        .containsExactly(new ServerJar("arbor", Path.of("/x/arbor.jar")));
  }

  @Test
  void labelsAreTakenFromLabelEqualsJarAndGivenByPositionOtherwise() {
    List<ServerJar> jars = ServerJar.parseAll(
        List.of("old=/tmp/old/arbor.jar", "/x/new.jar", "v2.1_rc-1=rel/arbor.jar"), tmp);
    assertThat(jars).extracting(ServerJar::label).containsExactly("old", "build2", "v2.1_rc-1");
    assertThat(jars.get(0).jar()).isEqualTo(Path.of("/tmp/old/arbor.jar"));
    assertThat(jars.get(2).jar()).isEqualTo(Path.of("rel/arbor.jar").toAbsolutePath());
  }

  @Test
  void anExistingFileWhoseNameHasAnEqualsSignIsAPath() throws Exception {
    Path odd = Files.createFile(tmp.resolve("a=b.jar"));
    ServerJar j = ServerJar.parseAll(List.of(odd.toString(), "b=x.jar"), tmp).get(0);
    assertThat(j.jar()).isEqualTo(odd);
    assertThat(j.label()).isEqualTo("build1");
  }

  @Test
  void aLabelGivenTwiceIsRefused() {
    assertThatThrownBy(() -> ServerJar.parseAll(List.of("a=x.jar", "a=y.jar"), tmp))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'a' given twice");
  }

  @Test
  void tlsBuildsNameLabelsOfTheRunAndTheSameJarMayRunUnderTwoLabels() {
    List<ServerJar> jars = ServerJar.parseAll(
        List.of("plain=server/target/arbor.jar", "tls=server/target/arbor.jar"), tmp);
    assertThat(jars.get(0).jar()).isEqualTo(jars.get(1).jar());
    assertThat(ServerJar.tlsLabels(List.of("tls"), jars)).containsExactly("tls");
    assertThat(ServerJar.tlsLabels(List.of(), jars)).isEmpty();
    assertThatThrownBy(() -> ServerJar.tlsLabels(List.of("tsl"), jars))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--tls-builds names 'tsl', which is not a --server-jar label of this run"
            + " (labels: plain, tls)");
  }
}
