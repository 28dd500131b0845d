package io.feedrank.avro.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.events.TrainingExample;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

class EncodeBufferTest {
  /** The reference: a fresh stream and direct encoder per record, header bytes zero. */
  static byte[] fresh(int header, DatumWriter<Object> w, Object datum) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(new byte[header]);
    BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
    w.write(datum, enc);
    enc.flush();
    return out.toByteArray();
  }

  @SuppressWarnings("unchecked")
  static DatumWriter<Object> writer(SpecificRecord r) {
    return (DatumWriter<Object>)
        (DatumWriter<?>)
            new SpecificDatumWriter<>(r.getSchema(), SpecificData.getForClass(r.getClass()));
  }

  static TrainingExample withFeatures(int n) {
    TrainingExample ex =
        TrainingExample.newBuilder((TrainingExample) Samples.FULL.get(TrainingExample.class))
            .build();
    ex.setUserFeatures(new ArrayList<>(Collections.nCopies(n, 1.0 / 3)));
    return ex;
  }

  @Test
  void everyRecordEncodesAsWithAFreshEncoderWhateverCameBefore() throws IOException {
    EncodeBuffer buffer = new EncodeBuffer();
    for (SpecificRecord r : Samples.FULL.values()) {
      assertThat(buffer.encode(5, writer(r), r)).isEqualTo(fresh(5, writer(r), r));
    }
    // larger than the initial buffer, then larger than what a thread keeps, then small again
    for (int n : new int[] {10, 5_000, 200_000, 3}) {
      TrainingExample ex = withFeatures(n);
      assertThat(buffer.encode(0, writer(ex), ex)).isEqualTo(fresh(0, writer(ex), ex));
    }
  }

  @Test
  void aRecordThatFailsHalfWayLeavesNothingForTheNext() throws IOException {
    EncodeBuffer buffer = new EncodeBuffer();
    TrainingExample broken = withFeatures(100);
    broken.setCrossFeatures(null); // written after the user features: fails mid-record
    assertThatThrownBy(() -> buffer.encode(5, writer(broken), broken))
        .isInstanceOf(NullPointerException.class);
    TrainingExample ok = withFeatures(2);
    assertThat(buffer.encode(5, writer(ok), ok)).isEqualTo(fresh(5, writer(ok), ok));
  }

  @Test
  void threadsDoNotShareABuffer() throws Exception {
    EncodeBuffer buffer = new EncodeBuffer();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int size = 50 + 40 * t;
        results.add(
            pool.submit(
                () -> {
                  TrainingExample ex = withFeatures(size);
                  byte[] expected = fresh(0, writer(ex), ex);
                  for (int i = 0; i < 2_000; i++) {
                    if (!java.util.Arrays.equals(buffer.encode(0, writer(ex), ex), expected)) {
                      return false;
                    }
                  }
                  return true;
                }));
      }
      for (Future<Boolean> f : results) {
        assertThat(f.get()).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
