package dev.arbor.liaison;

import dev.arbor.transport.StatusMapping;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.database.v1.*;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.errors.NotFoundException;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.metadata.MetadataValidator;
import dev.arbor.storage.StorageException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.function.Consumer;

/** {@code banyandb.database.v1.GroupRegistryService} for property groups. */
public final class GroupRegistryGrpcService extends GroupRegistryServiceGrpc.GroupRegistryServiceImplBase {
  /** Removes a deleted group's data where this process holds it. */
  interface GroupDataRemover {
    void remove(String group) throws IOException;
  }

  private final MetadataStore metadata;
  private final MetadataValidator validator;
  private final Consumer<Group> capacityCheck;
  private final GroupDataRemover remover;
  private final SchemaRegistryGrpcService.NameDeletion propertyDeletion;

  /**
   * @param capacityCheck rejects a group the cluster cannot place (more copies than data nodes)
   * @param remover drops the group's data (the local store standalone; nothing on a liaison, where
   *     data nodes drop it on the metadata change)
   * @param propertyDeletion tombstones every property of a schema (a {@code data_only} delete)
   */
  GroupRegistryGrpcService(
      MetadataStore metadata, MetadataValidator validator, Consumer<Group> capacityCheck, GroupDataRemover remover,
      SchemaRegistryGrpcService.NameDeletion propertyDeletion) {
    this.metadata = metadata;
    this.validator = validator;
    this.capacityCheck = capacityCheck;
    this.remover = remover;
    this.propertyDeletion = propertyDeletion;
  }

  @Override
  public void create(GroupRegistryServiceCreateRequest req, StreamObserver<GroupRegistryServiceCreateResponse> obs) {
    StatusMapping.unary(obs, () -> {
      Group g = requireGroup(req.hasGroup(), req.getGroup());
      validator.validateGroup(g);
      capacityCheck.accept(g);
      Group stored = metadata.createGroup(g);
      return GroupRegistryServiceCreateResponse.newBuilder()
          .setModRevision(stored.getMetadata().getModRevision()).build();
    });
  }

  @Override
  public void update(GroupRegistryServiceUpdateRequest req, StreamObserver<GroupRegistryServiceUpdateResponse> obs) {
    StatusMapping.unary(obs, () -> {
      Group g = requireGroup(req.hasGroup(), req.getGroup());
      Group old = metadata.group(g.getMetadata().getName())
          .orElseThrow(() -> new NotFoundException("group " + g.getMetadata().getName() + " not found"));
      validator.validateGroupUpdate(old, g);
      capacityCheck.accept(g);
      Group stored = metadata.updateGroup(g);
      return GroupRegistryServiceUpdateResponse.newBuilder()
          .setModRevision(stored.getMetadata().getModRevision()).build();
    });
  }

  @Override
  public void delete(GroupRegistryServiceDeleteRequest req, StreamObserver<GroupRegistryServiceDeleteResponse> obs) {
    StatusMapping.unary(obs, () -> {
      MetadataValidator.checkNameField("group", req.getGroup());
      Group g = metadata.group(req.getGroup())
          .orElseThrow(() -> new NotFoundException("group " + req.getGroup() + " not found"));
      if (req.getDryRun()) {
        // A dry run must never delete: it only proves the group exists (NOT_FOUND otherwise).
        return GroupRegistryServiceDeleteResponse.newBuilder().setDeleted(false).build();
      }
      if (req.getDataOnly()) {
        // Through the ordinary delete path: tombstones that repair spreads, schemas kept.
        int deleted = 0;
        for (dev.arbor.api.banyandb.database.v1.Property schema : metadata.schemas(req.getGroup())) {
          deleted += propertyDeletion.deleteAll(g, schema.getMetadata().getName());
        }
        return GroupRegistryServiceDeleteResponse.newBuilder().setDeleted(deleted > 0).build();
      }
      metadata.deleteGroup(req.getGroup());
      try {
        remover.remove(req.getGroup());
      } catch (IOException e) {
        throw new StorageException("group " + req.getGroup() + " deleted, but removing its data failed: "
            + e.getMessage() + " (it is removed on next start)", e);
      }
      return GroupRegistryServiceDeleteResponse.newBuilder().setDeleted(true).build();
    });
  }

  @Override
  public void get(GroupRegistryServiceGetRequest req, StreamObserver<GroupRegistryServiceGetResponse> obs) {
    StatusMapping.unary(obs, () -> GroupRegistryServiceGetResponse.newBuilder()
        .setGroup(metadata.group(req.getGroup())
            .orElseThrow(() -> new NotFoundException("group " + req.getGroup() + " not found")))
        .build());
  }

  @Override
  public void list(GroupRegistryServiceListRequest req, StreamObserver<GroupRegistryServiceListResponse> obs) {
    StatusMapping.unary(obs, () -> GroupRegistryServiceListResponse.newBuilder().addAllGroup(metadata.groups()).build());
  }

  @Override
  public void exist(GroupRegistryServiceExistRequest req, StreamObserver<GroupRegistryServiceExistResponse> obs) {
    StatusMapping.unary(obs, () -> GroupRegistryServiceExistResponse.newBuilder()
        .setHasGroup(metadata.group(req.getGroup()).isPresent()).build());
  }

  private static Group requireGroup(boolean present, Group g) {
    if (!present) {
      throw new InvalidArgumentException("group is required");
    }
    return g;
  }
}
