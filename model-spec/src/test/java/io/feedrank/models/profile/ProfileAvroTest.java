package io.feedrank.models.profile;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.events.FeatureProfile;
import io.feedrank.events.ReferenceProfile;
import java.nio.ByteBuffer;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.quantilescommon.QuantileSearchCriteria;
import org.junit.jupiter.api.Test;

class ProfileAvroTest {

  @Test
  void theWholeProfileSurvivesAvroAndItsSketchesReproduceTheBins() throws Exception {
    ProfileBuilder b = new ProfileBuilder();
    int x = b.numeric("x");
    int d = b.categorical("device");
    for (int i = 0; i < 5_000; i++) { // n > k: the sketches are compacted
      b.add(x, i);
      b.addCategory(d, i % 3 == 0 ? "MOBILE" : "DESKTOP");
      b.score(i / 5_000.0);
    }
    ReferenceProfile built = b.build();
    ByteBuffer bytes = built.toByteBuffer();
    ReferenceProfile read = ReferenceProfile.fromByteBuffer(bytes);

    assertThat(read).isEqualTo(built);
    assertThat(read.getN()).isEqualTo(5_000);
    assertThat(read.getFeatures().get(1).getSketch()).isNull();
    for (FeatureProfile p : new FeatureProfile[] {read.getFeatures().get(0), read.getScore()}) {
      KllDoublesSketch s = Bins.sketch(p);
      assertThat(s.getN()).isEqualTo(5_000);
      assertThat(s.isEstimationMode()).isTrue();
      // the deserialized sketch answers as the one the edges and fractions came from
      double[] edges = Bins.edges(p);
      assertThat(edges).hasSize(9);
      assertThat(s.getQuantile(0.5, QuantileSearchCriteria.INCLUSIVE)).isEqualTo(edges[4]);
      double[] cdf = s.getCDF(edges, QuantileSearchCriteria.INCLUSIVE);
      assertThat(cdf[0]).isEqualTo(p.getBinFractions().get(0));
    }
    assertThat(Bins.sketch(read.getFeatures().get(0)).getMaxItem()).isEqualTo(4_999.0);
  }
}
