package dev.arbor.liaison;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import com.google.protobuf.NullValue;
import com.google.protobuf.Timestamp;
import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.common.v1.ServiceGrpc;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceCreateRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceGrpc;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceCreateRequest;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceGrpc;
import dev.arbor.api.banyandb.database.v1.TagSpec;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Condition;
import dev.arbor.api.banyandb.model.v1.Criteria;
import dev.arbor.api.banyandb.model.v1.Int;
import dev.arbor.api.banyandb.model.v1.IntArray;
import dev.arbor.api.banyandb.model.v1.LogicalExpression;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.StrArray;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.ApplyRequest;
import dev.arbor.api.banyandb.property.v1.ApplyResponse;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.banyandb.property.v1.PropertyServiceGrpc;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.server.ServerConfig;
import dev.arbor.server.StandaloneServer;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.MessageLimits;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/**
 * Shared helpers for the public-API tests: a real {@link StandaloneServer} on loopback with a real
 * Netty channel, plus builders for groups, schemas, properties and criteria.
 */
final class ApiTestSupport {
  /** Every call gets its own deadline, so a server that never answers fails the test. */
  static final long CALL_DEADLINE_SECONDS = 30;

  private static final AtomicInteger UNIQUE = new AtomicInteger();

  private ApiTestSupport() {}

  /** A name unique within this JVM (group and schema names must not contain '/'). */
  static String unique(String prefix) {
    return prefix + "-" + UNIQUE.incrementAndGet();
  }

  // ---------------------------------------------------------------------------------------------
  // Server + channel fixture

  /** A running standalone server and a plaintext channel to it, with blocking stubs. */
  static final class Fixture implements AutoCloseable {
    final Path dataDir;
    final StandaloneServer server;
    final ManagedChannel channel;
    final GroupRegistryServiceGrpc.GroupRegistryServiceBlockingStub groups;
    final PropertyRegistryServiceGrpc.PropertyRegistryServiceBlockingStub schemas;
    final PropertyServiceGrpc.PropertyServiceBlockingStub properties;
    final ServiceGrpc.ServiceBlockingStub common;

    private Fixture(Path dataDir, StandaloneServer server) {
      this.dataDir = dataDir;
      this.server = server;
      this.channel =
          ChannelFactory.plaintext().withInterceptors(new PerCallDeadline())
              .open("127.0.0.1:" + server.grpcPort(), MessageLimits.MAX_MESSAGE_BYTES);
      this.groups = GroupRegistryServiceGrpc.newBlockingStub(channel);
      this.schemas = PropertyRegistryServiceGrpc.newBlockingStub(channel);
      this.properties = PropertyServiceGrpc.newBlockingStub(channel);
      this.common = ServiceGrpc.newBlockingStub(channel);
    }

    static Fixture start(Path dataDir) throws IOException {
      return start(dataDir, RequestLimits.DEFAULTS);
    }

    static Fixture start(Path dataDir, RequestLimits limits) throws IOException {
      return start(config(dataDir).withLimits(limits));
    }

    /** Starts with any config (use {@link ApiTestSupport#config} as the base). */
    static Fixture start(ServerConfig config) throws IOException {
      StandaloneServer server = StandaloneServer.start(config);
      assertThat(server.grpcPort()).as("bound gRPC port").isPositive();
      return new Fixture(config.dataDir(), server);
    }

    /**
     * Copies the data directory of this running server, as a crash would leave it (no clean
     * shutdown, no checkpoint): what is acknowledged must be recoverable from it.
     */
    Path crashImage(Path target) throws IOException {
      copyTree(dataDir, target);
      return target;
    }

    /** Creates a PROPERTY group with the given shard count. */
    Group createGroup(String name, int shardNum) {
      Group g = propertyGroup(name, shardNum);
      groups.create(GroupRegistryServiceCreateRequest.newBuilder().setGroup(g).build());
      return g;
    }

    /** Creates a schema. */
    dev.arbor.api.banyandb.database.v1.Property createSchema(
        String group, String name, TagSpec... tags) {
      dev.arbor.api.banyandb.database.v1.Property s = schema(group, name, tags);
      schemas.create(PropertyRegistryServiceCreateRequest.newBuilder().setProperty(s).build());
      return s;
    }

    ApplyResponse apply(Property p, ApplyRequest.Strategy strategy) {
      return properties.apply(
          ApplyRequest.newBuilder().setProperty(p).setStrategy(strategy).build());
    }

    ApplyResponse apply(Property p) {
      return apply(p, ApplyRequest.Strategy.STRATEGY_MERGE);
    }

    List<Property> query(QueryRequest.Builder q) {
      return properties.query(q.build()).getPropertiesList();
    }

    @Override
    public void close() throws InterruptedException {
      try {
        channel.shutdownNow();
        channel.awaitTermination(10, TimeUnit.SECONDS);
      } finally {
        server.close();
      }
    }
  }

  /** Applies a fresh deadline to every call (a stub-level deadline would be absolute). */
  private static final class PerCallDeadline implements ClientInterceptor {
    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(
        MethodDescriptor<Q, R> method, CallOptions callOptions, Channel next) {
      return next.newCall(
          method, callOptions.withDeadlineAfter(CALL_DEADLINE_SECONDS, TimeUnit.SECONDS));
    }
  }

  /** Loopback, ephemeral ports, default limits. */
  static ServerConfig config(Path dataDir) {
    return ServerConfig.defaults(dataDir).withHost("127.0.0.1").withPorts(0, 0);
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path src : walk.toList()) {
        Path dst = to.resolve(from.relativize(src).toString());
        if (Files.isDirectory(src)) {
          Files.createDirectories(dst);
        } else if (Files.exists(src)) {
          try {
            Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
          } catch (NoSuchFileException gone) {
            // Deleted while copying (a crash at that instant would not have it either).
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Groups and schemas

  static Group propertyGroup(String name, int shardNum) {
    return Group.newBuilder()
        .setMetadata(Metadata.newBuilder().setName(name))
        .setCatalog(Catalog.CATALOG_PROPERTY)
        .setResourceOpts(ResourceOpts.newBuilder().setShardNum(shardNum))
        .build();
  }

  static TagSpec spec(String name, TagType type) {
    return TagSpec.newBuilder().setName(name).setType(type).build();
  }

  static dev.arbor.api.banyandb.database.v1.Property schema(
      String group, String name, TagSpec... tags) {
    return dev.arbor.api.banyandb.database.v1.Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(group).setName(name))
        .addAllTags(Arrays.asList(tags))
        .build();
  }

  static Metadata meta(String group, String name) {
    return Metadata.newBuilder().setGroup(group).setName(name).build();
  }

  // ---------------------------------------------------------------------------------------------
  // Tag values and properties

  static TagValue str(String v) {
    return TagValue.newBuilder().setStr(Str.newBuilder().setValue(v)).build();
  }

  static TagValue int64(long v) {
    return TagValue.newBuilder().setInt(Int.newBuilder().setValue(v)).build();
  }

  static TagValue strArray(String... v) {
    return TagValue.newBuilder().setStrArray(StrArray.newBuilder().addAllValue(Arrays.asList(v)))
        .build();
  }

  static TagValue intArray(long... v) {
    IntArray.Builder b = IntArray.newBuilder();
    for (long x : v) {
      b.addValue(x);
    }
    return TagValue.newBuilder().setIntArray(b).build();
  }

  static TagValue binary(byte[] v) {
    return TagValue.newBuilder().setBinaryData(ByteString.copyFrom(v)).build();
  }

  static TagValue timestamp(long seconds, int nanos) {
    return TagValue.newBuilder()
        .setTimestamp(Timestamp.newBuilder().setSeconds(seconds).setNanos(nanos))
        .build();
  }

  static TagValue nullValue() {
    return TagValue.newBuilder().setNull(NullValue.NULL_VALUE).build();
  }

  static Tag tag(String key, TagValue value) {
    return Tag.newBuilder().setKey(key).setValue(value).build();
  }

  static Property property(String group, String name, String id, Tag... tags) {
    return Property.newBuilder()
        .setMetadata(meta(group, name))
        .setId(id)
        .addAllTags(Arrays.asList(tags))
        .build();
  }

  // ---------------------------------------------------------------------------------------------
  // Queries and criteria

  static QueryRequest.Builder query(String name, String... groups) {
    return QueryRequest.newBuilder().addAllGroups(Arrays.asList(groups)).setName(name);
  }

  static Criteria cond(String name, Condition.BinaryOp op, TagValue value) {
    return Criteria.newBuilder()
        .setCondition(
            Condition.newBuilder()
                .setName(name)
                .setOp(op)
                .setValue(value)
                // The 0.9 client always sends an empty match_option.
                .setMatchOption(Condition.MatchOption.getDefaultInstance()))
        .build();
  }

  static Criteria and(Criteria left, Criteria right) {
    return logical(LogicalExpression.LogicalOp.LOGICAL_OP_AND, left, right);
  }

  static Criteria or(Criteria left, Criteria right) {
    return logical(LogicalExpression.LogicalOp.LOGICAL_OP_OR, left, right);
  }

  /** Either side may be null (left out of the message). */
  static Criteria logical(LogicalExpression.LogicalOp op, Criteria left, Criteria right) {
    LogicalExpression.Builder le = LogicalExpression.newBuilder().setOp(op);
    if (left != null) {
      le.setLeft(left);
    }
    if (right != null) {
      le.setRight(right);
    }
    return Criteria.newBuilder().setLe(le).build();
  }

  static List<String> ids(List<Property> ps) {
    return ps.stream().map(Property::getId).toList();
  }

  static List<String> tagKeys(Property p) {
    return p.getTagsList().stream().map(Tag::getKey).toList();
  }

  // ---------------------------------------------------------------------------------------------
  // Errors

  /**
   * Asserts that the call fails with {@code code} and that the status description contains every
   * one of {@code descriptionParts}; returns the exception for further checks.
   */
  static StatusRuntimeException assertStatus(
      ThrowingCallable call, Status.Code code, String... descriptionParts) {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call);
    assertThat(e).as("expected the call to fail with %s", code).isNotNull();
    assertThat(e.getStatus().getCode())
        .as("status code (description: %s)", e.getStatus().getDescription())
        .isEqualTo(code);
    String description = e.getStatus().getDescription();
    assertThat(description).as("status description").isNotNull();
    for (String part : descriptionParts) {
      assertThat(description).as("status description").contains(part);
    }
    return e;
  }
}
