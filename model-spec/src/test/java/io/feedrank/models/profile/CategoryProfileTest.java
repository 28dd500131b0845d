package io.feedrank.models.profile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.feedrank.events.DriftKind;
import io.feedrank.events.FeatureProfile;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CategoryProfileTest {

  @Test
  void categoriesAreSortedByShareWithTheRestAsOther() {
    ProfileBuilder b = new ProfileBuilder(200, 2);
    int c = b.categorical("device");
    for (String v : List.of("MOBILE", "TABLET", "MOBILE", "DESKTOP", "UNKNOWN", "MOBILE")) {
      b.addCategory(c, v);
    }
    b.addCategory(c, "DESKTOP");
    b.addCategory(c, "TABLET");
    FeatureProfile p = b.build().getFeatures().get(0);
    assertThat(p.getKind()).isEqualTo(DriftKind.CATEGORICAL);
    // MOBILE 3, DESKTOP 2 and TABLET 2 tie (DESKTOP first by name), UNKNOWN 1: the two most
    // frequent are kept, TABLET and UNKNOWN fold into the bucket
    assertThat(p.getCategories()).containsExactly("MOBILE", "DESKTOP", ProfileBuilder.OTHER);
    assertThat(p.getCategoryFractions()).containsExactly(3 / 8.0, 2 / 8.0, 3 / 8.0);
    assertThat(p.getSketch()).isNull();
  }

  @Test
  void fiftyCategoriesAreKeptByDefaultAndFractionsSumToOne() {
    ProfileBuilder b = new ProfileBuilder();
    int c = b.categorical("item_category");
    // category i (0..59) occurs 100 - i times: 4,470 values
    long total = 0;
    for (int i = 0; i < 60; i++) {
      for (int j = 0; j < 100 - i; j++) {
        b.addCategory(c, String.format("cat%02d", i));
        total++;
      }
    }
    FeatureProfile p = b.build().getFeatures().get(0);
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      expected.add(String.format("cat%02d", i));
    }
    expected.add(ProfileBuilder.OTHER);
    assertThat(p.getCategories()).containsExactlyElementsOf(expected);
    assertThat(p.getCategoryFractions().get(0)).isEqualTo(100.0 / total);
    // the bucket holds categories 50..59: 50 + 49 + ... + 41 = 455 values
    assertThat(p.getCategoryFractions().get(50)).isEqualTo(455.0 / total);
    assertThat(ProfileBuilderTest.sum(p.getCategoryFractions())).isCloseTo(1.0, within(1e-12));
  }

  @Test
  void noBucketWithinTheLimitAndNullIsTheEmptyCategory() {
    ProfileBuilder b = new ProfileBuilder();
    int c = b.categorical("item_category");
    b.addCategory(c, null);
    b.addCategory(c, "news");
    b.addCategory(c, "news");
    b.addCategory(c, ProfileBuilder.OTHER); // a value spelled like the bucket joins the bucket
    FeatureProfile p = b.build().getFeatures().get(0);
    assertThat(p.getCategories()).containsExactly("news", "", ProfileBuilder.OTHER);
    assertThat(p.getCategoryFractions()).containsExactly(0.5, 0.25, 0.25);
  }
}
