package dev.arbor.liaison;

import dev.arbor.metadata.MetadataStore;
import dev.arbor.metadata.MetadataValidator;
import dev.arbor.metadata.SchemaLookup;
import dev.arbor.property.DefectSwitches;
import dev.arbor.property.HybridClock;
import dev.arbor.query.QueryPlanner;
import dev.arbor.storage.PropertyStore;
import io.grpc.BindableService;
import java.util.List;

/** Builds the public gRPC services over one node's metadata and store. */
public final class PublicApi {
  private PublicApi() {}

  public static List<BindableService> services(
      MetadataStore metadata, PropertyStore store, HybridClock clock, RequestLimits limits, String revision) {
    return services(metadata, store, clock, limits, revision, DefectSwitches.NONE);
  }

  /**
   * As above, with test-only {@code defects} switched back on (see {@link DefectSwitches}):
   * {@link dev.arbor.property.Defect#TOMBSTONE_KEEPS_OLD_REVISION} in the standalone delete.
   */
  public static List<BindableService> services(MetadataStore metadata, PropertyStore store, HybridClock clock,
      RequestLimits limits, String revision, DefectSwitches defects) {
    SchemaLookup lookup = new SchemaLookup(metadata);
    MetadataValidator metaValidator = new MetadataValidator(limits.maxTagsPerProperty());
    PropertyRequestValidator validator = new PropertyRequestValidator(limits.maxTagsPerProperty());
    PropertyDeleter deleter = new PropertyDeleter(lookup, store, clock, defects);
    SchemaRegistryGrpcService.NameDeletion nameDeletion =
        (g, name) -> deleter.deleteAllOfName(g.getMetadata().getName(), name, g.getResourceOpts().getShardNum());
    return List.of(
        new PropertyGrpcService(
            new PropertyApplier(lookup, validator, store, clock, limits.maxPropertyBytes())::apply,
            deleter::delete,
            new PropertyQuerier(new QueryPlanner(lookup, store), limits)::query),
        new GroupRegistryGrpcService(metadata, metaValidator, g -> { }, store::dropGroup, nameDeletion),
        new SchemaRegistryGrpcService(metadata, metaValidator, lookup, nameDeletion),
        new ApiVersionGrpcService("0.9", revision));
  }
}
