package dev.arbor.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.http.ApiClient;
import dev.arbor.http.HttpApiLimits;
import dev.arbor.transport.GrpcServerLimits;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The HTTP API's body cap and pool are flags: listed in --help, checked, and applied. */
class HttpApiLimitsTest {
  @TempDir Path dir;

  private static String[] run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = dev.arbor.server.cli.ArborCli.newCommandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int exit = cl.execute(args);
    return new String[] {String.valueOf(exit), out.toString(), err.toString()};
  }

  @Test
  void helpListsTheFlagsWithTheirDefaults() {
    for (String role : new String[] {"standalone", "liaison"}) {
      assertThat(run(role, "--help")[1]).as(role)
          .contains("--http-api-max-body-bytes", "16777216", "--http-api-threads", "--http-api-queue", "64");
    }
  }

  @Test
  void aBadValueIsOneLineBeforeAnythingStarts() {
    String[] r = run("standalone", "--data-dir", dir.resolve("d").toString(), "--grpc-host", "127.0.0.1",
        "--grpc-port", "0", "--http-port", "0", "--http-api-threads", "0");
    assertThat(r[0]).isNotEqualTo("0");
    assertThat(r[2]).contains("--http-api-threads must be >= 1").doesNotContain("\tat ");
  }

  @Test
  void aBodyOverTheConfiguredCapIs413NamingTheLimit() throws Exception {
    GrpcServerLimits d = GrpcServerLimits.DEFAULTS;
    ServerConfig config = ServerConfig.defaults(dir).withHost("127.0.0.1").withPorts(0, 0)
        .withServerLimits(new GrpcServerLimits(d.maxConcurrentCalls(), d.maxCallsPerConnection(), d.keepAliveTime(),
            d.maxConnectionAge(), d.maxQueuedReplyBytes(), new HttpApiLimits(4096, 2, 4)));
    try (StandaloneServer server = StandaloneServer.start(config)) {
      ApiClient http = new ApiClient("http://127.0.0.1:" + server.httpPort());
      ApiClient.Answer tooLarge = http.post("/api/v1/property/data/query",
          "{\"groups\":[\"" + "x".repeat(5000) + "\"]}");
      assertThat(tooLarge.status()).as(tooLarge.toString()).isEqualTo(413);
      assertThat(tooLarge.code()).isEqualTo(8);
      assertThat(tooLarge.message()).contains("4096 bytes", "--http-api-max-body-bytes");
      // Under the cap the same route runs: the group is unknown, which the service says.
      ApiClient.Answer under = http.post("/api/v1/property/data/query", "{\"groups\":[\"" + "x".repeat(3000) + "\"]}");
      assertThat(under.status()).as(under.toString()).isNotEqualTo(413);
      assertThat(under.code()).isIn(3, 5);
    }
  }
}
