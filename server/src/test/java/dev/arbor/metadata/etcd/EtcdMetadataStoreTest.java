package dev.arbor.metadata.etcd;

import dev.arbor.metadata.MetadataEvent;
import static dev.arbor.metadata.etcd.EtcdTestSupport.group;
import static dev.arbor.metadata.etcd.EtcdTestSupport.schema;
import static dev.arbor.metadata.etcd.EtcdTestSupport.uniquePrefix;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.database.v1.Property;
import dev.arbor.errors.AlreadyExistsException;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.errors.NotFoundException;
import dev.arbor.errors.UnavailableException;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.property.HybridClock;
import io.etcd.jetcd.options.GetOption;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** EtcdMetadataStore against a real etcd: the embedded store's contract, durability, visibility. */
class EtcdMetadataStoreTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(3);

  @TempDir static Path dir;
  private static EtcdProcess etcd;

  @BeforeAll
  static void startEtcd() throws Exception {
    etcd = EtcdProcess.start(dir);
  }

  @AfterAll
  static void stopEtcd() {
    if (etcd != null) {
      etcd.stop();
    }
  }

  private static EtcdMetadataStore connect(String prefix) {
    return EtcdMetadataStore.connect(etcd.endpoints(), prefix, HybridClock.system(), TIMEOUT);
  }

  @Test
  void groupCrudStampsRevisionsAndEnforcesExistence() {
    try (EtcdMetadataStore s = connect(uniquePrefix("group-crud"))) {
      Group created = s.createGroup(group("g1", 2));
      long rev = created.getMetadata().getCreateRevision();
      assertThat(rev).isPositive();
      assertThat(created.getMetadata().getModRevision()).isEqualTo(rev);
      assertThat(s.group("g1")).contains(created);

      assertThatThrownBy(() -> s.createGroup(group("g1", 4)))
          .isInstanceOf(AlreadyExistsException.class)
          .hasMessage("group g1 already exists");
      assertThat(s.group("g1")).contains(created);

      Group updated = s.updateGroup(group("g1", 2).toBuilder().setCatalogValue(2).build());
      assertThat(updated.getMetadata().getCreateRevision()).isEqualTo(rev);
      assertThat(updated.getMetadata().getModRevision()).isGreaterThan(rev);
      assertThat(s.group("g1")).contains(updated);

      assertThatThrownBy(() -> s.updateGroup(group("nope", 1)))
          .isInstanceOf(NotFoundException.class)
          .hasMessage("group nope not found");
      assertThatThrownBy(() -> s.deleteGroup("nope"))
          .isInstanceOf(NotFoundException.class)
          .hasMessage("group nope not found");

      s.createGroup(group("a0", 1));
      s.createGroup(group("g10", 1));
      assertThat(s.groups()).extracting(g -> g.getMetadata().getName()).containsExactly("a0", "g1", "g10");

      s.deleteGroup("g1");
      assertThat(s.group("g1")).isEmpty();
      assertThat(s.groups()).extracting(g -> g.getMetadata().getName()).containsExactly("a0", "g10");
    }
  }

  @Test
  void schemaCrudMirrorsTheEmbeddedStore() {
    try (EtcdMetadataStore s = connect(uniquePrefix("schema-crud"))) {
      assertThatThrownBy(() -> s.createSchema(schema("g", "s", "t")))
          .isInstanceOf(NotFoundException.class)
          .hasMessage("group g not found");
      s.createGroup(group("g", 1));
      s.createGroup(group("g2", 1));
      Property created = s.createSchema(schema("g", "s", "t"));
      long rev = created.getMetadata().getCreateRevision();
      assertThat(created.getMetadata().getModRevision()).isEqualTo(rev);
      assertThat(created.getUpdatedAt().getSeconds()).isEqualTo(rev / 1_000_000_000L);
      assertThatThrownBy(() -> s.createSchema(schema("g", "s", "t")))
          .isInstanceOf(AlreadyExistsException.class)
          .hasMessage("property schema g/s already exists");

      Property updated = s.updateSchema(schema("g", "s", "t", "u"));
      assertThat(updated.getMetadata().getCreateRevision()).isEqualTo(rev);
      assertThat(updated.getMetadata().getModRevision()).isGreaterThan(rev);
      assertThat(updated.getTagsCount()).isEqualTo(2);
      assertThat(s.schema("g", "s")).contains(updated);
      assertThatThrownBy(() -> s.updateSchema(schema("g", "missing", "t")))
          .isInstanceOf(NotFoundException.class)
          .hasMessage("property schema g/missing not found");
      assertThatThrownBy(() -> s.updateSchema(schema("nog", "s", "t")))
          .isInstanceOf(NotFoundException.class)
          .hasMessage("group nog not found");

      s.createSchema(schema("g", "a", "t"));
      s.createSchema(schema("g2", "x", "t"));
      assertThat(s.schemas("g")).extracting(p -> p.getMetadata().getName()).containsExactly("a", "s");
      assertThat(s.schemas("g2")).extracting(p -> p.getMetadata().getName()).containsExactly("x");

      s.deleteSchema("g", "a");
      assertThat(s.schema("g", "a")).isEmpty();
      assertThatThrownBy(() -> s.deleteSchema("g", "a"))
          .isInstanceOf(NotFoundException.class)
          .hasMessage("property schema g/a not found");

      // Deleting a group removes its schemas (and only its own: "g2" shares the "g" prefix).
      s.deleteGroup("g");
      assertThat(s.schemas("g")).isEmpty();
      assertThat(s.schema("g", "s")).isEmpty();
      assertThat(s.schemas("g2")).hasSize(1);
      s.createGroup(group("g", 1));
      assertThat(s.schemas("g")).isEmpty();
    }
  }

  @Test
  void namesWithSlashAreRejectedBeforeTouchingEtcd() {
    try (EtcdMetadataStore s = connect(uniquePrefix("names"))) {
      assertThatThrownBy(() -> s.createGroup(group("a/b", 1)))
          .isInstanceOf(InvalidArgumentException.class);
      assertThat(s.groups()).isEmpty();
    }
  }

  /** The same sequence of calls gives the same outcomes (results and errors) on both stores. */
  @Test
  void sameOutcomesAsEmbeddedStore(@TempDir Path embeddedDir) throws Exception {
    List<Function<MetadataStore, Object>> script =
        List.of(
            s -> s.createGroup(group("g", 2)),
            s -> s.createGroup(group("g", 3)),
            s -> s.updateGroup(group("g", 2).toBuilder().setCatalogValue(2).build()),
            s -> s.updateGroup(group("h", 2)),
            s -> s.createSchema(schema("h", "s", "t")),
            s -> s.createSchema(schema("g", "s", "t")),
            s -> s.createSchema(schema("g", "s", "t")),
            s -> s.updateSchema(schema("g", "s", "t", "u")),
            s -> s.updateSchema(schema("g", "x", "t")),
            s -> s.schemas("g"),
            s -> s.groups(),
            s -> {
              s.deleteSchema("g", "x");
              return "deleted";
            },
            s -> {
              s.deleteGroup("g");
              return "deleted";
            },
            s -> s.schema("g", "s"),
            s -> {
              s.deleteGroup("g");
              return "deleted";
            });
    List<String> embedded;
    try (EmbeddedMetadataStore e = EmbeddedMetadataStore.open(embeddedDir, HybridClock.system())) {
      embedded = run(script, e);
    }
    List<String> onEtcd;
    try (EtcdMetadataStore s = connect(uniquePrefix("parity"))) {
      onEtcd = run(script, s);
    }
    assertThat(onEtcd).containsExactlyElementsOf(embedded);
  }

  private static List<String> run(List<Function<MetadataStore, Object>> script, MetadataStore s) {
    List<String> out = new ArrayList<>();
    for (Function<MetadataStore, Object> step : script) {
      try {
        out.add(String.valueOf(step.apply(s)).replaceAll("(?m)^\\s*(create_revision|mod_revision|seconds|nanos): \\d+\\s*$", "")
            .replaceAll("\\s+", " "));
      } catch (RuntimeException e) {
        out.add(e.getClass().getSimpleName() + ": " + e.getMessage());
      }
    }
    return out;
  }

  @Test
  void everyChangeIsInEtcdWhenTheCallReturns() throws Exception {
    String prefix = uniquePrefix("durable");
    Group g;
    Property p;
    try (EtcdMetadataStore s = connect(prefix)) {
      g = s.createGroup(group("g", 1));
      p = s.createSchema(schema("g", "s", "t"));
      s.createGroup(group("gone", 1));
      s.createSchema(schema("gone", "s", "t"));
      s.deleteGroup("gone");
      // Straight from etcd, not from any cache.
      var kvs =
          s.connection()
              .client()
              .getKVClient()
              .get(EtcdConnection.bytes(prefix), GetOption.builder().isPrefix(true).build())
              .get();
      assertThat(kvs.getKvs())
          .extracting(kv -> kv.getKey().toString().substring(prefix.length()))
          // The delete leaves a record of the incarnation it deleted (what lets nodes drop data).
          .containsExactlyInAnyOrder("groups/g", "incarnations/g", "schemas/g/s", "deleted/gone");
    }
    try (EtcdMetadataStore again = connect(prefix)) {
      assertThat(again.groups()).containsExactly(g);
      assertThat(again.incarnation("g")).isPresent();
      assertThat(again.schemas("g")).containsExactly(p);
      assertThat(again.group("gone")).isEmpty();
    }
  }

  @Test
  void changesByOneNodeReachAnotherWithinOneSecond() {
    String prefix = uniquePrefix("two-nodes");
    try (EtcdMetadataStore a = connect(prefix);
        EtcdMetadataStore b = connect(prefix)) {
      List<MetadataEvent> seenByB = new CopyOnWriteArrayList<>();
      b.addListener(seenByB::add);

      Group g = a.createGroup(group("g", 2));
      await().atMost(Duration.ofSeconds(1)).until(() -> b.group("g").equals(java.util.Optional.of(g)));
      Property p = a.createSchema(schema("g", "s", "t"));
      await().atMost(Duration.ofSeconds(1)).until(() -> b.schema("g", "s").equals(java.util.Optional.of(p)));
      // A valid change: values read from etcd are validated, an invalid one would never arrive.
      Group g2 = b.updateGroup(group("g", 2).toBuilder()
          .setResourceOpts(group("g", 2).getResourceOpts().toBuilder().setReplicas(2)).build());
      await().atMost(Duration.ofSeconds(1)).until(() -> a.group("g").equals(java.util.Optional.of(g2)));
      assertThat(g2.getMetadata().getCreateRevision()).isEqualTo(g.getMetadata().getCreateRevision());

      a.deleteGroup("g");
      await().atMost(Duration.ofSeconds(1)).until(() -> b.group("g").isEmpty() && b.schemas("g").isEmpty());
      await()
          .atMost(Duration.ofSeconds(1))
          .untilAsserted(
              () ->
                  assertThat(seenByB)
                      .extracting(MetadataEvent::type)
                      .containsExactly(
                          MetadataEvent.Type.GROUP_CREATED,
                          MetadataEvent.Type.SCHEMA_CREATED,
                          MetadataEvent.Type.GROUP_UPDATED,
                          MetadataEvent.Type.GROUP_DELETED,
                          MetadataEvent.Type.SCHEMA_DELETED));
      assertThat(seenByB.get(0).groupValue()).contains(g);
      assertThat(seenByB.get(4).schemaName()).isEqualTo("s");
    }
  }

  @Test
  void unreachableEtcdAtStartFailsClearlyWithinTheTimeout() throws Exception {
    URI nowhere = URI.create("http://127.0.0.1:" + EtcdProcess.freePort());
    long t0 = System.nanoTime();
    assertThatThrownBy(
            () ->
                EtcdMetadataStore.connect(
                    List.of(nowhere), null, HybridClock.system(), Duration.ofSeconds(2)))
        .isInstanceOf(UnavailableException.class)
        .hasMessageStartingWith("cannot reach etcd at " + nowhere + " within 2s");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
  }
}
