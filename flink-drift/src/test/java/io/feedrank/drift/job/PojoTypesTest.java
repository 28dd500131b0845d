package io.feedrank.drift.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.GenericTypeInfo;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

/**
 * What the job keeps in state and sends between operators is serialized by Flink's own POJO
 * serializers, not by Kryo's generic fallback: Flink recognizes a collection field only when it is
 * declared as the interface ({@code Map}, {@code List}); a {@code HashMap} or {@code ArrayList}
 * field went to Kryo (slower, larger, and its state cannot evolve).
 */
class PojoTypesTest {
  static final List<Class<?>> TYPES =
      List.of(
          SketchAccumulator.class,
          WindowSummary.class,
          Command.class,
          Command.Evidence.class,
          Report.class,
          FeatureValue.class,
          ServingReference.class,
          AlertEvent.class,
          OnlineCtr.Window.class,
          CtrDropCommands.Track.class,
          CtrDropCommands.Shown.class);

  @Test
  void stateAndRecordTypesArePojosWithoutAGenericField() {
    for (Class<?> c : TYPES) {
      TypeInformation<?> t = TypeInformation.of(c);
      assertThat(t).as(c.getName()).isInstanceOf(PojoTypeInfo.class);
      PojoTypeInfo<?> pojo = (PojoTypeInfo<?>) t;
      for (int i = 0; i < pojo.getArity(); i++) {
        assertThat(pojo.getPojoFieldAt(i).getTypeInformation())
            .as(c.getSimpleName() + "." + pojo.getPojoFieldAt(i).getField().getName())
            .isNotInstanceOf(GenericTypeInfo.class);
      }
    }
  }

  /** With generic types disabled (Kryo refused), every serializer can still be built. */
  @Test
  void serializersBuildWithGenericTypesDisabled() {
    SerializerConfigImpl noKryo = new SerializerConfigImpl();
    noKryo.setGenericTypes(false);
    for (Class<?> c : TYPES) {
      assertThatCode(() -> TypeInformation.of(c).createSerializer(noKryo))
          .as(c.getName())
          .doesNotThrowAnyException();
    }
  }

  /**
   * Category counts and evidence come back as mutable collections: a restored accumulator merges
   * into its counts (Kryo could not copy JDK unmodifiable ones either).
   */
  @Test
  void countsAndEvidenceRoundTripAsMutableCollections() throws Exception {
    SerializerConfigImpl noKryo = new SerializerConfigImpl();
    noKryo.setGenericTypes(false);
    SketchAccumulator acc = new SketchAccumulator();
    acc.add(FeatureValue.categorical("device", "mobile", 0));
    acc.add(FeatureValue.categorical("device", "mobile", 0));
    SketchAccumulator back = roundTrip(acc, SketchAccumulator.class, noKryo);
    back.add(FeatureValue.categorical("device", "tablet", 0));
    assertThat(back.counts).isEqualTo(Map.of("mobile", 2L, "tablet", 1L));

    WindowSummary s = new WindowSummary();
    s.counts = new HashMap<>(Map.of("a", 3L));
    assertThat(roundTrip(s, WindowSummary.class, noKryo).counts).isEqualTo(Map.of("a", 3L));

    Command c = new Command();
    Command.Evidence e = new Command.Evidence();
    e.feature = "device";
    e.psi = 0.3;
    c.evidence.add(e);
    Command copy = roundTrip(c, Command.class, noKryo);
    assertThat(copy.evidence).singleElement().satisfies(x -> assertThat(x.psi).isEqualTo(0.3));
    copy.evidence.add(new Command.Evidence());
    assertThat(copy.evidence).hasSize(2).isInstanceOf(ArrayList.class);
  }

  static <T> T roundTrip(T value, Class<T> type, SerializerConfigImpl config) throws Exception {
    TypeSerializer<T> serializer = TypeInformation.of(type).createSerializer(config);
    DataOutputSerializer out = new DataOutputSerializer(256);
    serializer.serialize(value, out);
    return serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
  }
}
