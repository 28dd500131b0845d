package io.feedrank.avro.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RegistryConfigTest {

  private static Map<String, Object> configs(Object... kv) {
    Map<String, Object> m = new HashMap<>();
    m.put(RegistryConfig.URL, "http://127.0.0.1:8081");
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  @Test
  void ofUsesDocumentedDefaults() {
    RegistryConfig c = RegistryConfig.of("http://127.0.0.1:8081");
    assertThat(c.urls()).containsExactly(URI.create("http://127.0.0.1:8081"));
    assertThat(c.basicAuthUserInfo()).isNull();
    assertThat(c.maxRetries()).isEqualTo(5);
    assertThat(c.initialBackoff()).isEqualTo(Duration.ofMillis(100));
    assertThat(c.maxBackoff()).isEqualTo(Duration.ofSeconds(2));
    assertThat(c.requestTimeout()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void commaSeparatedUrlsAreTrimmedAndLoseTheTrailingSlash() {
    RegistryConfig c =
        RegistryConfig.of(
            "  http://a:8081/ ,https://b.example:443/apis/ccompat/v7/,, \thttp://c:1  ,");
    assertThat(c.urls())
        .containsExactly(
            URI.create("http://a:8081"),
            URI.create("https://b.example:443/apis/ccompat/v7"),
            URI.create("http://c:1"));
  }

  /**
   * Credentials in the URL are refused, without repeating them: the JDK's client does not send
   * them, and the URL is in every message about the registry.
   */
  @Test
  void credentialsInTheUrlAreRefusedWithoutBeingRepeated() {
    // a host Java's URI will not parse as one (an underscore, as compose service names have) and
    // a password that is not a valid URI character: refused before any message repeats the URL
    for (String url :
        List.of(
            "https://svc:s3cret@registry.example:8081",
            "https://svc:s3cret@schema_registry:8081/apis/ccompat/v7",
            "https://svc:p^s3cret@registry:8081",
            "http://registry:8081,https://svc:s3cret@other:8081")) {
      assertThatThrownBy(() -> RegistryConfig.of(url))
          .as(url)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("must not carry credentials")
          .hasMessageContaining("basic.auth.user.info")
          .hasMessageNotContaining("s3cret")
          .hasNoCause();
    }
    // nor can the record be built with one
    assertThatThrownBy(
            () ->
                new RegistryConfig(
                    List.of(java.net.URI.create("https://svc:s3cret@registry:8081")),
                    null,
                    0,
                    java.time.Duration.ofMillis(1),
                    java.time.Duration.ofMillis(1),
                    java.time.Duration.ofMillis(1)))
        .hasMessageNotContaining("s3cret");
  }

  @Test
  void urlListIsCopied() {
    List<URI> urls = new ArrayList<>(List.of(URI.create("http://a:1")));
    RegistryConfig c =
        new RegistryConfig(
            urls, null, 1, Duration.ofMillis(1), Duration.ofMillis(1), Duration.ofMillis(1));
    urls.add(URI.create("http://b:2"));
    assertThat(c.urls()).containsExactly(URI.create("http://a:1"));
    assertThatThrownBy(() -> c.urls().add(URI.create("http://c:3")))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"ftp://a:21", "localhost:8081", "file:/tmp/x", "http://a:1,ws://b:2"})
  void nonHttpSchemesAreRejectedNamingTheKey(String url) {
    assertThatThrownBy(() -> RegistryConfig.of(url))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(RegistryConfig.URL)
        .hasMessageContaining("http(s)");
    assertThatThrownBy(() -> RegistryConfig.fromMap(configs(RegistryConfig.URL, url)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(RegistryConfig.URL);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " ", " , ,"})
  void emptyUrlIsRejectedNamingTheKey(String url) {
    assertThatThrownBy(() -> RegistryConfig.of(url))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(RegistryConfig.URL);
    assertThatThrownBy(() -> RegistryConfig.fromMap(configs(RegistryConfig.URL, url)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(RegistryConfig.URL);
  }

  @Test
  void missingUrlIsRejectedNamingTheKey() {
    assertThatThrownBy(() -> RegistryConfig.fromMap(Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("missing config " + RegistryConfig.URL);
  }

  /**
   * fromMap() promises an IllegalArgumentException naming the key for a malformed value; a URL that
   * is not a URI at all (a missing http:// before an IP address, a space) must say so too.
   */
  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1:8081", "http://registry host:8081"})
  void unparseableUrlIsRejectedNamingTheKey(String url) {
    assertThatThrownBy(() -> RegistryConfig.fromMap(configs(RegistryConfig.URL, url)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(RegistryConfig.URL);
  }

  @ParameterizedTest
  @ValueSource(strings = {"alice", "alice-no-colon"})
  void basicAuthWithoutColonIsRejectedNamingTheKey(String userInfo) {
    assertThatThrownBy(
            () -> RegistryConfig.fromMap(configs(RegistryConfig.BASIC_AUTH_USER_INFO, userInfo)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(RegistryConfig.BASIC_AUTH_USER_INFO)
        .hasMessageNotContaining(userInfo);
    assertThatThrownBy(() -> RegistryConfig.of("http://a:1").withBasicAuth(userInfo))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(RegistryConfig.BASIC_AUTH_USER_INFO);
  }

  @Test
  void basicAuthIsReadAndBlankMeansNone() {
    assertThat(
            RegistryConfig.fromMap(configs(RegistryConfig.BASIC_AUTH_USER_INFO, "alice:pa:ss"))
                .basicAuthUserInfo())
        .isEqualTo("alice:pa:ss");
    assertThat(
            RegistryConfig.fromMap(configs(RegistryConfig.BASIC_AUTH_USER_INFO, "  "))
                .basicAuthUserInfo())
        .isNull();
  }

  @ParameterizedTest
  @ValueSource(ints = {-1, 21, 1000})
  void retriesOutsideZeroToTwentyAreRejectedNamingTheKey(int retries) {
    assertThatThrownBy(() -> RegistryConfig.fromMap(configs(RegistryConfig.MAX_RETRIES, retries)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(RegistryConfig.MAX_RETRIES)
        .hasMessageContaining(String.valueOf(retries));
    assertThatThrownBy(
            () ->
                RegistryConfig.of("http://a:1")
                    .withRetries(retries, Duration.ofMillis(1), Duration.ofMillis(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(RegistryConfig.MAX_RETRIES);
  }

  @Test
  void retriesAtTheBoundsAreAccepted() {
    assertThat(RegistryConfig.fromMap(configs(RegistryConfig.MAX_RETRIES, "0")).maxRetries())
        .isZero();
    assertThat(RegistryConfig.fromMap(configs(RegistryConfig.MAX_RETRIES, 20)).maxRetries())
        .isEqualTo(20);
  }

  @Test
  void numericKeysAcceptStringsWithWhitespaceAndNumbers() {
    RegistryConfig c =
        RegistryConfig.fromMap(
            configs(
                RegistryConfig.MAX_RETRIES,
                " 3 ",
                RegistryConfig.RETRY_BACKOFF_MS,
                50L,
                RegistryConfig.RETRY_BACKOFF_MAX_MS,
                "700",
                RegistryConfig.REQUEST_TIMEOUT_MS,
                2500));
    assertThat(c.maxRetries()).isEqualTo(3);
    assertThat(c.initialBackoff()).isEqualTo(Duration.ofMillis(50));
    assertThat(c.maxBackoff()).isEqualTo(Duration.ofMillis(700));
    assertThat(c.requestTimeout()).isEqualTo(Duration.ofMillis(2500));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        RegistryConfig.MAX_RETRIES,
        RegistryConfig.RETRY_BACKOFF_MS,
        RegistryConfig.RETRY_BACKOFF_MAX_MS,
        RegistryConfig.REQUEST_TIMEOUT_MS
      })
  void nonIntegerValuesAreRejectedNamingTheKey(String key) {
    for (String bad : List.of("abc", "1.5", "10ms", "")) {
      assertThatThrownBy(() -> RegistryConfig.fromMap(configs(key, bad)))
          .as("%s=%s", key, bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(key)
          .hasMessageContaining("integer");
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        RegistryConfig.RETRY_BACKOFF_MS,
        RegistryConfig.RETRY_BACKOFF_MAX_MS,
        RegistryConfig.REQUEST_TIMEOUT_MS
      })
  void zeroOrNegativeDurationsAreRejectedNamingTheKey(String key) {
    for (Object bad : List.of("0", -5)) {
      assertThatThrownBy(() -> RegistryConfig.fromMap(configs(key, bad)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(key)
          .hasMessageContaining("> 0");
    }
  }

  @Test
  void withRetriesValidatesBackoffs() {
    RegistryConfig c = RegistryConfig.of("http://a:1");
    assertThatThrownBy(() -> c.withRetries(1, Duration.ZERO, Duration.ofMillis(1)))
        .hasMessageContaining(RegistryConfig.RETRY_BACKOFF_MS);
    assertThatThrownBy(() -> c.withRetries(1, Duration.ofMillis(1), null))
        .hasMessageContaining(RegistryConfig.RETRY_BACKOFF_MAX_MS);
    RegistryConfig changed =
        c.withBasicAuth("u:p").withRetries(2, Duration.ofMillis(3), Duration.ofMillis(4));
    assertThat(changed.maxRetries()).isEqualTo(2);
    assertThat(changed.initialBackoff()).isEqualTo(Duration.ofMillis(3));
    assertThat(changed.maxBackoff()).isEqualTo(Duration.ofMillis(4));
    assertThat(changed.basicAuthUserInfo()).isEqualTo("u:p");
    assertThat(changed.requestTimeout()).isEqualTo(c.requestTimeout());
    assertThat(changed.urls()).isEqualTo(c.urls());
  }

  @Test
  void toStringNeverContainsThePassword() {
    RegistryConfig c =
        RegistryConfig.fromMap(
            configs(RegistryConfig.BASIC_AUTH_USER_INFO, "alice:s3cr3t-Passw0rd"));
    assertThat(c.toString())
        .doesNotContain("s3cr3t")
        .contains("127.0.0.1:8081")
        .contains("basicAuth=true");
    assertThat(RegistryConfig.of("http://a:1").toString()).contains("basicAuth=false");
    assertThat(new HttpSchemaRegistryClient(c).toString()).doesNotContain("s3cr3t");
  }

  /** What a service hands its serdes reads back as the service's own config, every key set. */
  @Test
  void toMapIsReadBackByFromMap() {
    RegistryConfig c =
        RegistryConfig.fromMap(
            Map.of(
                RegistryConfig.URL, "http://a:8081/, https://b:443/apis/ccompat/v7",
                RegistryConfig.BASIC_AUTH_USER_INFO, "u:p",
                RegistryConfig.MAX_RETRIES, "7",
                RegistryConfig.RETRY_BACKOFF_MS, "250",
                RegistryConfig.RETRY_BACKOFF_MAX_MS, "4000",
                RegistryConfig.REQUEST_TIMEOUT_MS, "3000"));
    Map<String, String> m = c.toMap();
    assertThat(m)
        .containsEntry(RegistryConfig.URL, "http://a:8081,https://b:443/apis/ccompat/v7")
        .containsEntry(RegistryConfig.BASIC_AUTH_USER_INFO, "u:p")
        .containsEntry(RegistryConfig.MAX_RETRIES, "7")
        .containsEntry(RegistryConfig.RETRY_BACKOFF_MS, "250")
        .containsEntry(RegistryConfig.RETRY_BACKOFF_MAX_MS, "4000")
        .containsEntry(RegistryConfig.REQUEST_TIMEOUT_MS, "3000");
    assertThat(RegistryConfig.fromMap(m)).isEqualTo(c);
    assertThat(RegistryConfig.of("http://a:1").toMap())
        .doesNotContainKey(RegistryConfig.BASIC_AUTH_USER_INFO);
  }
}
