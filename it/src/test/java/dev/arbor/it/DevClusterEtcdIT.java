package dev.arbor.it;

import static dev.arbor.it.Props.property;
import static dev.arbor.it.Props.propertyGroup;
import static dev.arbor.it.Props.schema;
import static dev.arbor.it.Props.str;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.harness.EtcdServer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.skywalking.banyandb.database.v1.BanyandbDatabase.TagType;
import org.apache.skywalking.banyandb.property.v1.BanyandbProperty;
import org.apache.skywalking.banyandb.v1.client.BanyanDBClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code arbor dev-cluster --metadata etcd://…} as a user starts it: every data node registers
 * its own lease in a real etcd (one registry per node; a shared one refused the second node with
 * "already registered node data-1"), and the liaison places three copies over the three nodes.
 */
@Timeout(180)
class DevClusterEtcdIT {
  @Test
  void devClusterOnEtcd_registersEveryDataNode_andServesThreeCopies() throws Exception {
    Path work = ArborProcess.newDataDir("dev-cluster-etcd");
    try (EtcdServer etcd = ArborProcess.startEtcd(Files.createDirectories(work.resolve("etcd")))) {
      int[] ports = ArborProcess.freePorts(2);
      try (ArborProcess dev = ArborProcess.launchCommand("dev-cluster-etcd", "dev-cluster",
          "--base-dir", work.resolve("nodes").toString(), "--grpc-host", "127.0.0.1",
          "--grpc-port", Integer.toString(ports[0]), "--http-port", Integer.toString(ports[1]),
          "--metadata", "etcd://127.0.0.1:" + etcd.clientUri().getPort())) {
        dev.awaitOutput("Arbor dev cluster: liaison serving", ArborProcess.STARTUP_TIMEOUT);
        assertThat(dev.output()).contains("data node data-1", "data node data-2", "data node data-3");

        BanyanDBClient client = new BanyanDBClient("127.0.0.1:" + ports[0]);
        client.connect();
        try {
          // replicas 2 = three copies: accepted only when the liaison sees all three data nodes.
          client.define(propertyGroup("g", 2, 2));
          client.define(schema("g", "t", "title", TagType.TAG_TYPE_STRING));
          for (int i = 0; i < 20; i++) {
            BanyandbProperty.ApplyResponse r = client.apply(property("g", "t", "p" + i, str("title", "v" + i)));
            assertThat(r.getCreated()).isTrue();
          }
          assertThat(client.query(BanyandbProperty.QueryRequest.newBuilder().addGroups("g").setName("t")
              .setLimit(100).build()).getPropertiesCount()).isEqualTo(20);
        } finally {
          client.close();
        }
        for (int n = 1; n <= 3; n++) {
          assertThat(work.resolve("nodes").resolve("data-" + n).resolve("data").resolve("g"))
              .as("data-%d holds a copy of every shard", n).isDirectory();
        }
        assertThat(dev.stop()).as("exit code on SIGTERM\n%s", dev.logTail(20)).isZero();
      }
    } finally {
      ArborProcess.deleteDataDir(work);
    }
  }
}
