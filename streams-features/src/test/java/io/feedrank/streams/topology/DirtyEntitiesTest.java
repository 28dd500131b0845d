package io.feedrank.streams.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.streams.redis.FeatureWriter;
import java.nio.ByteBuffer;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

class DirtyEntitiesTest {

  /**
   * A pending store restored from its changelog after an upgrade holds entries of three longs,
   * written before the base event count was kept: they read with no base (no check), not fail.
   */
  @Test
  void readsAnEntryWrittenWithoutABaseAsNoBase() {
    Serde<long[]> serde = DirtyEntities.rangeSerde();
    byte[] old = ByteBuffer.allocate(24).putLong(5).putLong(7).putLong(2).array();
    assertThat(serde.deserializer().deserialize("t", old))
        .containsExactly(5, 7, 2, FeatureWriter.NO_BASE);
    long[] entry = {5, 7, 2, 9};
    assertThat(serde.deserializer().deserialize("t", serde.serializer().serialize("t", entry)))
        .containsExactly(entry);
  }
}
