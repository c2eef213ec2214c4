package dev.arbor.metadata;

import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.database.v1.Property;
import dev.arbor.property.GroupIncarnation;
import java.util.List;
import java.util.Optional;

/**
 * Groups and property schemas. Implementations validate nothing about content (see
 * {@link MetadataValidator}) but enforce existence rules: create of an existing item throws
 * AlreadyExists, update/delete of a missing one throws NotFound. Every change is durable before
 * the call returns.
 */
public interface MetadataStore extends AutoCloseable {
  Optional<Group> group(String name);

  /**
   * Why this process cannot rely on its metadata right now (the store unreachable: changes are
   * neither seen nor made); empty when fine. Read by the health service, so it answers from local
   * state, without a round trip. An embedded store is always reachable.
   */
  default List<String> readinessProblems() {
    return List.of();
  }

  List<Group> groups();

  /**
   * The group's incarnation: random, made when the group is created, so a group deleted and
   * re-created under the same name is told apart from the old one. Kept beside the group, never
   * in the public {@code Group} message. Empty when the group does not exist, or (etcd metadata
   * written by an older build) until some node has assigned it one.
   */
  Optional<GroupIncarnation> incarnation(String name);

  /** Stores a new group with a new incarnation, stamping create/mod revisions; returns the stored group. */
  Group createGroup(Group group);

  /** Replaces a group, keeping its create revision and incarnation; returns the stored group. */
  Group updateGroup(Group group);

  /** Removes a group and all its schemas. */
  void deleteGroup(String name);

  Optional<Property> schema(String group, String name);

  List<Property> schemas(String group);

  Property createSchema(Property schema);

  Property updateSchema(Property schema);

  void deleteSchema(String group, String name);

  /** Calls {@code listener} after every change, whoever made it (in order, never concurrently). */
  void addListener(java.util.function.Consumer<MetadataEvent> listener);

  /**
   * Calls {@code listener} with where this store's view of metadata stands, now (if known) and on
   * every answer of the backing store after. Only stores with a history (etcd) have one.
   */
  default void addRevisionListener(java.util.function.Consumer<MetadataRevision> listener) {}

  /**
   * Stored values that cannot be read or fail validation, by key, with why. Each keeps its last
   * good value here (never read as a deleted item). Empty for stores that never hold such values.
   */
  default java.util.Map<String, String> unreadableValues() {
    return java.util.Map.of();
  }

  @Override
  void close();
}
