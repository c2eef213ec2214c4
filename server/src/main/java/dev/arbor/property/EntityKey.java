package dev.arbor.property;

import java.nio.charset.StandardCharsets;

/**
 * The logical key of a property: {@code group/name/id}. Group and name never contain {@code /}
 * (validated at the edge), so the entity string parses back unambiguously; the id may.
 */
public record EntityKey(String group, String name, String id) {
  public EntityKey {
    if (group.isEmpty() || name.isEmpty()) {
      throw new IllegalArgumentException("group and name must not be empty");
    }
    if (group.indexOf('/') >= 0 || name.indexOf('/') >= 0) {
      throw new IllegalArgumentException("group and name must not contain '/'");
    }
  }

  /** The entity string {@code group/name/id}, used for sharding, Lucene keys and tree leaves. */
  public String entity() {
    return group + '/' + name + '/' + id;
  }

  public byte[] entityUtf8() {
    return entity().getBytes(StandardCharsets.UTF_8);
  }

  /** Parses {@code group/name/id} (the id may contain '/'). */
  public static EntityKey parse(String entity) {
    int a = entity.indexOf('/');
    int b = a < 0 ? -1 : entity.indexOf('/', a + 1);
    if (a <= 0 || b <= a + 1) {
      throw new IllegalArgumentException("not an entity key: " + entity);
    }
    return new EntityKey(entity.substring(0, a), entity.substring(a + 1, b), entity.substring(b + 1));
  }

  @Override
  public String toString() {
    return entity();
  }
}
