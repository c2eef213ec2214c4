package dev.arbor.liaison;

import dev.arbor.transport.StatusMapping;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.database.v1.*;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.errors.NotFoundException;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.metadata.MetadataValidator;
import dev.arbor.metadata.SchemaLookup;
import io.grpc.stub.StreamObserver;

/**
 * {@code banyandb.database.v1.PropertyRegistryService}: property schemas. Deleting a schema first
 * deletes its properties, so a re-created schema never resurfaces old data.
 */
public final class SchemaRegistryGrpcService extends PropertyRegistryServiceGrpc.PropertyRegistryServiceImplBase {
  private final MetadataStore metadata;
  private final MetadataValidator validator;
  private final SchemaLookup lookup;
  private final NameDeletion deleter;

  /** Deletes every property of a name in a group (locally, or on the group's replicas). */
  interface NameDeletion {
    int deleteAll(Group group, String name);
  }

  SchemaRegistryGrpcService(
      MetadataStore metadata, MetadataValidator validator, SchemaLookup lookup, NameDeletion deleter) {
    this.metadata = metadata;
    this.validator = validator;
    this.lookup = lookup;
    this.deleter = deleter;
  }

  @Override
  public void create(PropertyRegistryServiceCreateRequest req, StreamObserver<PropertyRegistryServiceCreateResponse> obs) {
    StatusMapping.unary(obs, () -> {
      Property p = requireSchema(req.hasProperty(), req.getProperty());
      validator.validateSchema(p);
      lookup.propertyGroup(p.getMetadata().getGroup(), "property.metadata.group");
      Property stored = metadata.createSchema(p);
      return PropertyRegistryServiceCreateResponse.newBuilder()
          .setModRevision(stored.getMetadata().getModRevision()).build();
    });
  }

  @Override
  public void update(PropertyRegistryServiceUpdateRequest req, StreamObserver<PropertyRegistryServiceUpdateResponse> obs) {
    StatusMapping.unary(obs, () -> {
      Property p = requireSchema(req.hasProperty(), req.getProperty());
      validator.validateSchema(p);
      lookup.propertyGroup(p.getMetadata().getGroup(), "property.metadata.group");
      Property stored = metadata.updateSchema(p);
      return PropertyRegistryServiceUpdateResponse.newBuilder()
          .setModRevision(stored.getMetadata().getModRevision()).build();
    });
  }

  @Override
  public void delete(PropertyRegistryServiceDeleteRequest req, StreamObserver<PropertyRegistryServiceDeleteResponse> obs) {
    StatusMapping.unary(obs, () -> {
      Metadata m = req.getMetadata();
      Group g = lookup.propertyGroup(m.getGroup(), "metadata.group");
      lookup.schema(m.getGroup(), m.getName());
      deleter.deleteAll(g, m.getName());
      metadata.deleteSchema(m.getGroup(), m.getName());
      return PropertyRegistryServiceDeleteResponse.newBuilder().setDeleted(true).build();
    });
  }

  @Override
  public void get(PropertyRegistryServiceGetRequest req, StreamObserver<PropertyRegistryServiceGetResponse> obs) {
    StatusMapping.unary(obs, () -> {
      Metadata m = req.getMetadata();
      return PropertyRegistryServiceGetResponse.newBuilder()
          .setProperty(metadata.schema(m.getGroup(), m.getName())
              .orElseThrow(() -> new NotFoundException(
                  "property schema " + m.getGroup() + "/" + m.getName() + " not found")))
          .build();
    });
  }

  @Override
  public void list(PropertyRegistryServiceListRequest req, StreamObserver<PropertyRegistryServiceListResponse> obs) {
    StatusMapping.unary(obs, () -> {
      if (metadata.group(req.getGroup()).isEmpty()) {
        throw new NotFoundException("group " + req.getGroup() + " not found");
      }
      return PropertyRegistryServiceListResponse.newBuilder().addAllProperties(metadata.schemas(req.getGroup())).build();
    });
  }

  @Override
  public void exist(PropertyRegistryServiceExistRequest req, StreamObserver<PropertyRegistryServiceExistResponse> obs) {
    StatusMapping.unary(obs, () -> {
      Metadata m = req.getMetadata();
      return PropertyRegistryServiceExistResponse.newBuilder()
          .setHasGroup(metadata.group(m.getGroup()).isPresent())
          .setHasProperty(metadata.schema(m.getGroup(), m.getName()).isPresent())
          .build();
    });
  }

  private static Property requireSchema(boolean present, Property p) {
    if (!present) {
      throw new InvalidArgumentException("property is required");
    }
    return p;
  }
}
