package dev.arbor.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServingLineTest {
  /** Records each write that reaches the file descriptor's side of the stream. */
  private static final class WriteLog extends OutputStream {
    final List<String> writes = new ArrayList<>();

    @Override
    public void write(int b) {
      writes.add(String.valueOf((char) b));
    }

    @Override
    public void write(byte[] b, int off, int len) {
      writes.add(new String(b, off, len, StandardCharsets.UTF_8));
    }
  }

  @Test
  void theWholeLineReachesTheStreamInOneWrite() {
    WriteLog log = new WriteLog();
    PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8);

    ServingLine.print(out, "Arbor data node %s serving %s (internal, %s)", "d1", "127.0.0.1:1", "plaintext");

    assertThat(log.writes)
        .containsExactly("Arbor data node d1 serving 127.0.0.1:1 (internal, plaintext)" + System.lineSeparator());
  }

  @Test
  void printfWouldSplitTheLineWhichIsWhyServingLineExists() {
    // The failure seen in CI: a log line from another thread landed between printf's pieces.
    WriteLog log = new WriteLog();
    PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8);

    out.printf("Arbor data node %s serving %s%n", "d1", "127.0.0.1:1");

    assertThat(log.writes).hasSizeGreaterThan(1);
    assertThat(String.join("", log.writes)).isEqualTo("Arbor data node d1 serving 127.0.0.1:1" + System.lineSeparator());
  }
}
