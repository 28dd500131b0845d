package io.feedrank.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.avro.registry.RegistryConfig;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The registry's keys: all of them are read, and a bad one is refused by its name. */
class DriftConfigTest {
  private static Map<String, String> required() {
    Map<String, String> p = new HashMap<>();
    p.put("bootstrap.servers", "127.0.0.1:9092");
    p.put("schema.registry.url", "http://127.0.0.1:8081/apis/ccompat/v7");
    return p;
  }

  @Test
  void autoRegisterSchemasReachesTheSerdesAndABadValueIsRefusedByName() {
    Map<String, String> p = required();
    assertThat(DriftConfig.from(p).registry()).containsEntry("auto.register.schemas", "true");
    p.put("auto.register.schemas", "false");
    assertThat(DriftConfig.from(p).registry()).containsEntry("auto.register.schemas", "false");
    p.put("auto.register.schemas", "off");
    assertThatThrownBy(() -> DriftConfig.from(p))
        .hasMessageContaining("auto.register.schemas must be true or false");
  }

  @Test
  void theRegistrysRetriesAndCredentialsAreReadAndABadOneIsRefusedByName() {
    Map<String, String> p = required();
    p.put("schema.registry.max.retries", "7");
    p.put("schema.registry.retry.backoff.max.ms", "3000");
    p.put("schema.registry.request.timeout.ms", "1500");
    p.put("basic.auth.user.info", "app:secret");
    // the sources' serdes get every key, and read them back as configured
    RegistryConfig r = RegistryConfig.fromMap(DriftConfig.from(p).registry());
    assertThat(r.maxRetries()).isEqualTo(7);
    assertThat(r.maxBackoff()).hasMillis(3000);
    assertThat(r.requestTimeout()).hasMillis(1500);
    assertThat(r.basicAuthUserInfo()).isEqualTo("app:secret");
    p.put("schema.registry.retry.backoff.ms", "-1");
    assertThatThrownBy(() -> DriftConfig.from(p))
        .hasMessageContaining("schema.registry.retry.backoff.ms must be > 0");
    p.remove("schema.registry.retry.backoff.ms");
    p.remove("schema.registry.url");
    assertThatThrownBy(() -> DriftConfig.from(p)).hasMessage("missing config schema.registry.url");
  }
}
