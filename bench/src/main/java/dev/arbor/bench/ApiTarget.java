package dev.arbor.bench;

import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.ClientSecurity;
import dev.arbor.transport.MessageLimits;
import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.GetAPIVersionRequest;
import dev.arbor.api.banyandb.common.v1.GetAPIVersionResponse;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.common.v1.ServiceGrpc;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceCreateRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceDeleteRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceGrpc;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceCreateRequest;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceGrpc;
import dev.arbor.api.banyandb.database.v1.TagSpec;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.property.v1.PropertyServiceGrpc;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * One server the API benchmark measures: a build of Arbor it started (or an external one with
 * {@code --target}) or the no-storage ceiling, with the client channels to it, the id counters of
 * its groups and the {@link Report} its figures go into.
 */
final class ApiTarget {

  /** What is behind the endpoint. */
  enum Kind {
    /** An Arbor server: every phase runs against it. */
    ARBOR,
    /** The no-storage ceiling: only the apply levels (and their warm-up) run against it. */
    CEILING
  }

  private final Kind kind;
  private final Report report;
  private final ServerSide server;
  private final Path workDir;
  private final ManagedChannel[] channels;
  private final PropertyServiceGrpc.PropertyServiceStub[] stubs;
  /** Ids issued by the apply levels (they continue from level to level). */
  private final AtomicLong applySeq;

  private ApiTarget(Kind kind, Report report, ServerSide server, Path workDir, String endpoint,
      int channelCount, ClientSecurity security) {
    this.kind = kind;
    this.report = report;
    this.server = server;
    this.workDir = workDir;
    this.applySeq = new AtomicLong();
    channels = new ManagedChannel[channelCount];
    stubs = new PropertyServiceGrpc.PropertyServiceStub[channelCount];
    for (int i = 0; i < channelCount; i++) {
      channels[i] = ChannelFactory.of(security).openDirect(endpoint, MessageLimits.MAX_MESSAGE_BYTES);
      stubs[i] = PropertyServiceGrpc.newStub(channels[i]);
    }
  }

  /** The same server, channels and counters, every call carrying a write consistency header. */
  private ApiTarget(ApiTarget of, String consistency) {
    this.kind = of.kind;
    this.report = of.report;
    this.server = of.server;
    this.workDir = of.workDir;
    this.channels = of.channels;
    this.applySeq = of.applySeq;
    io.grpc.Metadata md = new io.grpc.Metadata();
    md.put(io.grpc.Metadata.Key.of(CONSISTENCY_HEADER, io.grpc.Metadata.ASCII_STRING_MARSHALLER),
        consistency);
    this.stubs = new PropertyServiceGrpc.PropertyServiceStub[of.stubs.length];
    for (int i = 0; i < stubs.length; i++) {
      stubs[i] = of.stubs[i].withInterceptors(
          io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(md));
    }
  }

  /** The liaison's per-request write consistency header. */
  static final String CONSISTENCY_HEADER = "arbor-write-consistency";

  /** This target with every apply asking for write consistency {@code all}. */
  ApiTarget withConsistencyAll() {
    return new ApiTarget(this, "all");
  }

  /** A server process the benchmark started (it owns the process and its work directory). */
  static ApiTarget started(Kind kind, Report report, ServerSide server, Path workDir,
      int channelCount) {
    return started(kind, report, server, workDir, channelCount, ClientSecurity.PLAINTEXT);
  }

  /** As above, the channels using {@code security} (TLS trusting the bench CA for a TLS build). */
  static ApiTarget started(Kind kind, Report report, ServerSide server, Path workDir,
      int channelCount, ClientSecurity security) {
    return new ApiTarget(kind, report, server, workDir, server.target(), channelCount, security);
  }

  /** A server somebody else runs ({@code --target}): no process, no CPU figures. */
  static ApiTarget external(Report report, String endpoint, int channelCount) {
    return new ApiTarget(Kind.ARBOR, report, null, null, endpoint, channelCount,
        ClientSecurity.PLAINTEXT);
  }

  Kind kind() {
    return kind;
  }

  String label() {
    return report.label;
  }

  Report report() {
    return report;
  }

  /** The process (for its CPU); null for an external server. */
  ServerSide server() {
    return server;
  }

  AtomicLong applySeq() {
    return applySeq;
  }

  PropertyServiceGrpc.PropertyServiceStub stub(int client) {
    return stubs[client % stubs.length];
  }

  PropertyServiceGrpc.PropertyServiceBlockingStub blocking() {
    return PropertyServiceGrpc.newBlockingStub(channels[0]).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  void pause() {
    if (server != null && server.pausable()) {
      server.pause();
    }
  }

  void resume() {
    if (server != null) {
      server.resume();
    }
  }

  String apiVersion() {
    try {
      GetAPIVersionResponse v = ServiceGrpc.newBlockingStub(channels[0])
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .getAPIVersion(GetAPIVersionRequest.getDefaultInstance());
      return v.getVersion().getVersion() + " (revision " + v.getVersion().getRevision() + ")";
    } catch (RuntimeException e) {
      return "unknown (" + ClosedLoop.describe(e) + ")";
    }
  }

  /** A CATALOG_PROPERTY group with the benchmark's schema (tags data, ts, kind, zone). */
  void createGroup(String group, int shards, int replicas) {
    GroupRegistryServiceGrpc.newBlockingStub(channels[0]).withDeadlineAfter(30, TimeUnit.SECONDS)
        .create(GroupRegistryServiceCreateRequest.newBuilder().setGroup(Group.newBuilder()
            .setMetadata(Metadata.newBuilder().setName(group))
            .setCatalog(Catalog.CATALOG_PROPERTY)
            .setResourceOpts(ResourceOpts.newBuilder().setShardNum(shards).setReplicas(replicas))).build());
    PropertyRegistryServiceGrpc.newBlockingStub(channels[0]).withDeadlineAfter(30, TimeUnit.SECONDS)
        .create(PropertyRegistryServiceCreateRequest.newBuilder().setProperty(
            dev.arbor.api.banyandb.database.v1.Property.newBuilder()
                .setMetadata(Metadata.newBuilder().setGroup(group).setName(ApiWorkload.SCHEMA))
                .addTags(TagSpec.newBuilder().setName("data").setType(TagType.TAG_TYPE_STRING))
                .addTags(TagSpec.newBuilder().setName("ts").setType(TagType.TAG_TYPE_INT))
                .addTags(TagSpec.newBuilder().setName("kind").setType(TagType.TAG_TYPE_STRING))
                .addTags(TagSpec.newBuilder().setName("zone").setType(TagType.TAG_TYPE_STRING)))
            .build());
  }

  void deleteGroup(String group) {
    try {
      GroupRegistryServiceGrpc.newBlockingStub(channels[0]).withDeadlineAfter(60, TimeUnit.SECONDS)
          .delete(GroupRegistryServiceDeleteRequest.newBuilder().setGroup(group).build());
    } catch (RuntimeException e) {
      ApiBenchmark.log("could not delete group %s: %s", group, e);
    }
  }

  /** Closes the channels, stops the process and deletes its work directory unless kept. */
  void close(boolean keepData) {
    for (ManagedChannel c : channels) {
      c.shutdownNow();
    }
    for (ManagedChannel c : channels) {
      try {
        c.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (server != null) {
      server.close();
    }
    if (workDir != null && !keepData) {
      deleteRecursively(workDir);
    } else if (workDir != null) {
      ApiBenchmark.log("kept data and log of %s under %s", label(), workDir);
    }
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          // best effort
        }
      });
    } catch (IOException e) {
      ApiBenchmark.log("could not delete %s: %s", dir, e);
    }
  }
}
