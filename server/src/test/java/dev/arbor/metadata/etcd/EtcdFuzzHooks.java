package dev.arbor.metadata.etcd;

import com.google.protobuf.Message;
import dev.arbor.metadata.RegisteredNode;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/**
 * Reaches the private etcd value decoders for the fuzz campaign in dev.arbor.fuzz, so their
 * inputs can be fuzzed by the ten thousand without an etcd round trip each.
 */
public final class EtcdFuzzHooks {
  private static final Method METADATA_DECODE = method(EtcdMetadataStore.class, "decode", String.class, byte[].class);
  private static final Method NODE_DECODE = method(EtcdNodeRegistry.class, "decode", byte[].class);
  private static final Method NODE_ENCODE = method(EtcdNodeRegistry.class, "encode", RegisteredNode.class);

  private EtcdFuzzHooks() {}

  /** What the metadata store's cache makes of the value at {@code key} (relative to its prefix). */
  public static Message decodeMetadata(String key, byte[] value) throws Exception {
    return (Message) invoke(METADATA_DECODE, key, value);
  }

  public static RegisteredNode decodeNode(byte[] value) throws Exception {
    return (RegisteredNode) invoke(NODE_DECODE, (Object) value);
  }

  public static byte[] encodeNode(RegisteredNode node) throws Exception {
    return ((io.etcd.jetcd.ByteSequence) invoke(NODE_ENCODE, node)).getBytes();
  }

  private static Object invoke(Method m, Object... args) throws Exception {
    try {
      return m.invoke(null, args);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof Exception ex) {
        throw ex;
      }
      throw (Error) e.getCause();
    }
  }

  private static Method method(Class<?> c, String name, Class<?>... types) {
    try {
      Method m = c.getDeclaredMethod(name, types);
      m.setAccessible(true);
      return m;
    } catch (NoSuchMethodException e) {
      throw new IllegalStateException(e);
    }
  }
}
