package dev.arbor.metadata;

import dev.arbor.property.GroupIncarnation;
import dev.arbor.storage.GroupIncarnations;
import java.util.Optional;

/** The metadata store's groups and their incarnations, as storage checks its data against them. */
public final class MetadataGroupIncarnations implements GroupIncarnations {
  private final MetadataStore metadata;

  public MetadataGroupIncarnations(MetadataStore metadata) {
    this.metadata = metadata;
  }

  @Override
  public boolean exists(String group) {
    return metadata.group(group).isPresent();
  }

  @Override
  public Optional<GroupIncarnation> incarnation(String group) {
    return metadata.incarnation(group);
  }
}
