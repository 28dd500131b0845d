package io.feedrank.ranker.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.models.Checksums;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenBucketsAndKeysTest {

  @Test
  void aBucketAllowsItsBurstThenRefillsAtItsRate() {
    AtomicLong now = new AtomicLong(0);
    TokenBuckets b = new TokenBuckets(10, 5, now::get);
    for (int i = 0; i < 5; i++) {
      assertThat(b.tryTake("a")).isTrue();
    }
    assertThat(b.tryTake("a")).isFalse();
    assertThat(b.tryTake("b")).as("buckets are per client").isTrue();
    assertThat(b.retryAfterSeconds("a")).isEqualTo(1);
    now.addAndGet(250_000_000L); // 0.25 s at 10/s = 2.5 tokens
    assertThat(b.tryTake("a")).isTrue();
    assertThat(b.tryTake("a")).isTrue();
    assertThat(b.tryTake("a")).isFalse();
    now.addAndGet(3_600_000_000_000L); // an hour refills only up to the burst
    int taken = 0;
    while (b.tryTake("a")) {
      taken++;
    }
    assertThat(taken).isEqualTo(5);
  }

  /**
   * Retry-After is the whole seconds until the next token, (1 − tokens) / rate rounded up, at least
   * 1: here one token per 10 s.
   */
  @Test
  void retryAfterIsTheSecondsUntilTheNextToken() {
    AtomicLong now = new AtomicLong(0);
    TokenBuckets b = new TokenBuckets(0.1, 1, now::get);
    assertThat(b.tryTake("a")).isTrue();
    assertThat(b.tryTake("a")).isFalse();
    assertThat(b.retryAfterSeconds("a")).isEqualTo(10);
    now.addAndGet(4_000_000_000L); // 0.4 of a token: 6 s to go
    assertThat(b.tryTake("a")).isFalse();
    assertThat(b.retryAfterSeconds("a")).isEqualTo(6);
    now.addAndGet(5_500_000_000L); // 0.95: 0.5 s to go, rounded up
    assertThat(b.tryTake("a")).isFalse();
    assertThat(b.retryAfterSeconds("a")).isEqualTo(1);
    now.addAndGet(500_000_000L);
    assertThat(b.tryTake("a")).isTrue();
    assertThat(b.retryAfterSeconds("unknown")).isEqualTo(1);
  }

  @Test
  void keysAreCheckedAgainstTheirHashes(@TempDir Path dir) throws Exception {
    String hash = Checksums.sha256("s3cret-key".getBytes(StandardCharsets.UTF_8));
    // sha256("s3cret-key") computed independently with: printf %s s3cret-key | sha256sum
    assertThat(hash).isEqualTo("817b823905cc7853f381992575a9041fcdb17fc70e776707abfb4d7c59ecbf3f");
    Path file = dir.resolve("keys");
    Files.writeString(file, "# clients\n\nmobile-app " + hash + "\n");
    ApiKeys keys = ApiKeys.load(file);
    assertThat(keys.client("s3cret-key")).contains("mobile-app");
    assertThat(keys.client("s3cret-kez")).isEmpty();
    assertThat(keys.client(null)).isEmpty();
    assertThat(keys.client(hash)).as("the hash itself is not a key").isEmpty();
    Files.writeString(file, "mobile-app s3cret-key\n");
    assertThatThrownBy(() -> ApiKeys.load(file)).hasMessageContaining("line 1");
    // one key given to two clients: which one it is would depend on the order of the lines
    Files.writeString(file, "mobile-app " + hash + "\nweb " + hash.toUpperCase() + "\n");
    assertThatThrownBy(() -> ApiKeys.load(file))
        .hasMessageEndingWith("line 2: the same key hash as an earlier line (client mobile-app)");
  }
}
