package io.feedrank.features.vector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelInputsTest {

  @Test
  void perRequestInputsAreReadFromTheMetadata() {
    assertThat(ModelInputs.perRequestInputs(Map.of())).isEmpty();
    assertThat(ModelInputs.perRequestInputs(Map.of(ModelInputs.META_PER_REQUEST, " "))).isEmpty();
    assertThat(
            ModelInputs.perRequestInputs(
                Map.of(ModelInputs.META_PER_REQUEST, "user, user_id,context")))
        .containsExactlyInAnyOrder("user", "user_id", "context");
  }

  @Test
  void aCandidatesInputCannotBePerRequest() {
    assertThatThrownBy(
            () -> ModelInputs.perRequestInputs(Map.of(ModelInputs.META_PER_REQUEST, "user,item")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "feedrank.per_request_inputs lists 'item', which is not one of [user, context, user_id]");
  }

  @Test
  void aPerRequestInputIsFedOneRowOfANonEmptyBatch() {
    var once = java.util.Set.of(ModelInputs.USER);
    assertThat(ModelInputs.rowsFed(ModelInputs.USER, once, 100)).isEqualTo(1);
    assertThat(ModelInputs.rowsFed(ModelInputs.USER, once, 0)).isZero();
    assertThat(ModelInputs.rowsFed(ModelInputs.ITEM, once, 100)).isEqualTo(100);
  }
}
