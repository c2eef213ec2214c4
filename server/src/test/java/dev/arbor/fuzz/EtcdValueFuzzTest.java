package dev.arbor.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.database.v1.Property;
import dev.arbor.api.banyandb.database.v1.TagSpec;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.metadata.v1.StoredGroupIncarnation;
import dev.arbor.errors.ArborException;
import dev.arbor.metadata.RegisteredNode;
import dev.arbor.metadata.etcd.EtcdConnection;
import dev.arbor.metadata.etcd.EtcdFuzzHooks;
import dev.arbor.metadata.etcd.EtcdMetadataStore;
import dev.arbor.metadata.etcd.EtcdProcess;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.property.HybridClock;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Values under the etcd prefix: the metadata store's and the node registry's decoders get mutated
 * values directly (an etcd round trip per input would cost the whole CI budget), and a smaller
 * smoke run puts mutated values into a real etcd beside canary metadata. A decoder either returns a
 * value or throws an IOException (the cache logs and skips those); the store keeps answering and
 * the canaries keep their values.
 */
class EtcdValueFuzzTest {
  private static final int CI_INPUTS = 10_000;
  private static final int CI_ETCD_INPUTS = 100;

  @TempDir Path dir;

  @Test
  void decodersReturnOrRejectClearly() throws Exception {
    String target = "etcd-decoders";
    int planned = Fuzz.iterations(CI_INPUTS);
    Random rnd = Fuzz.random(target);
    Mutator m = new Mutator(rnd);
    ProtoMutator pm = new ProtoMutator(m);
    Fuzz.Run run = new Fuzz.Run(target);
    Group group = group("g1");
    Property schema = schema("g1", "s");
    StoredGroupIncarnation inc = StoredGroupIncarnation.newBuilder()
        .setId(ByteString.copyFrom(GroupIncarnation.random().toBytes())).build();
    byte[] node = EtcdFuzzHooks.encodeNode(new RegisteredNode("n1", "127.0.0.1:17912", Set.of("data", "liaison"),
        Map.of("zone", "a")));
    String[] keys = {"groups/g1", "schemas/g1/s", "incarnations/g1"};
    Message[] bases = {group, schema, inc};
    for (int i = 0; i < planned; i++) {
      int which = rnd.nextInt(4);
      byte[] value;
      Throwable error;
      if (which < 3) {
        value = rnd.nextBoolean() ? pm.structured(bases[which]).toByteArray()
            : m.mutate(bases[which].toByteArray(), bases[rnd.nextInt(3)].toByteArray());
        error = thrown(() -> EtcdFuzzHooks.decodeMetadata(keys[which], value));
      } else {
        value = m.mutate(node, null);
        error = thrown(() -> EtcdFuzzHooks.decodeNode(value));
      }
      run.tried();
      if (error != null) {
        assertThat(error).as("decoder input #%d (%s): %s", i, which < 3 ? keys[which] : "nodes/n1",
            Fuzz.abbreviate(new String(value, java.nio.charset.StandardCharsets.ISO_8859_1)))
            // A clear rejection: an I/O error, or a domain error naming the rule (the cache keeps the
            // last good value for either); never an unexpected runtime exception.
            .isInstanceOfAny(IOException.class, dev.arbor.errors.ArborException.class);
      }
    }
    run.finish(planned);
  }

  @Test
  void mutatedValuesInARealEtcdLeaveTheStoreWorking() throws Exception {
    String target = "etcd-smoke";
    // One in a hundred of the decoder inputs: each costs a real etcd write and watch event.
    int planned = Math.max(CI_ETCD_INPUTS, Fuzz.iterations(CI_INPUTS) / 100);
    Random rnd = Fuzz.random(target);
    Mutator m = new Mutator(rnd);
    ProtoMutator pm = new ProtoMutator(m);
    Fuzz.Run run = new Fuzz.Run(target);
    String prefix = "/fuzz/" + Long.toHexString(rnd.nextLong()) + "/";
    try (EtcdProcess etcd = EtcdProcess.start(dir);
        EtcdConnection conn = EtcdConnection.connect(List.of(etcd.clientUri()), Duration.ofSeconds(10));
        EtcdMetadataStore store = EtcdMetadataStore.open(conn, prefix, HybridClock.system())) {
      Group canary = store.createGroup(group("canary"));
      Property canarySchema = store.createSchema(schema("canary", "s"));
      GroupIncarnation canaryInc = store.incarnation("canary").orElseThrow();
      Message[] bases = {group("fz"), schema("canary", "fz"), StoredGroupIncarnation.newBuilder()
          .setId(ByteString.copyFrom(GroupIncarnation.random().toBytes())).build()};
      String[] keys = {"groups/fz", "schemas/canary/fz", "incarnations/fz"};
      for (int i = 0; i < planned; i++) {
        int which = rnd.nextInt(3);
        byte[] value = rnd.nextBoolean() ? pm.structured(bases[which]).toByteArray()
            : m.mutate(bases[which].toByteArray(), null);
        conn.call(conn.client().getKVClient().put(io.etcd.jetcd.ByteSequence.from(prefix + keys[which] + (i % 7), java.nio.charset.StandardCharsets.UTF_8),
            io.etcd.jetcd.ByteSequence.from(value)), "fuzz put");
        run.tried();
        // Whatever the cache made of it, the store answers with values or its documented errors.
        String name = "fz" + (i % 7);
        Throwable error = thrown(() -> {
          store.groups();
          store.schemas("canary");
          store.group(name);
          return store.incarnation(name);
        });
        if (error != null) {
          assertThat(error).as("etcd input #%d", i).isInstanceOf(ArborException.class);
        }
      }
      try (EtcdMetadataStore again = EtcdMetadataStore.open(conn, prefix, HybridClock.system())) {
        assertThat(again.group("canary")).as("canary group, read afresh").contains(canary);
        assertThat(again.schema("canary", "s")).contains(canarySchema);
        assertThat(again.incarnation("canary")).contains(canaryInc);
      }
      assertThat(store.group("canary")).contains(canary);
    }
    run.finish(planned, CI_ETCD_INPUTS);
  }

  private interface Call {
    Object run() throws Exception;
  }

  private static Throwable thrown(Call c) {
    try {
      c.run();
      return null;
    } catch (Throwable t) {
      return t;
    }
  }

  private static Group group(String name) {
    return Group.newBuilder().setMetadata(Metadata.newBuilder().setName(name)).setCatalog(Catalog.CATALOG_PROPERTY)
        .setResourceOpts(ResourceOpts.newBuilder().setShardNum(2)).build();
  }

  private static Property schema(String group, String name) {
    return Property.newBuilder().setMetadata(Metadata.newBuilder().setGroup(group).setName(name))
        .addTags(TagSpec.newBuilder().setName("k").setType(TagType.TAG_TYPE_STRING)).build();
  }
}
