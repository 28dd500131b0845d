package io.feedrank.ranker.models;

import io.feedrank.ranker.scoring.Scorer;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.LoggerFactory;

/**
 * A loaded model and what the registry says about it. Reference-counted so that a swap never closes
 * a session a request is still using: the slot holds one reference, each request one more, and the
 * session closes when the last is released after the model was {@link #retire retired}.
 */
public final class ServingModel {
  private final String name;
  private final String version;
  private final String architecture;
  private final int featureSchemaVersion;
  private final Instant loadedAt;
  private final Scorer scorer;
  private final AtomicInteger refs = new AtomicInteger(1);

  public ServingModel(
      String name,
      String version,
      String architecture,
      int featureSchemaVersion,
      Instant loadedAt,
      Scorer scorer) {
    this.name = name;
    this.version = version;
    this.architecture = architecture;
    this.featureSchemaVersion = featureSchemaVersion;
    this.loadedAt = loadedAt;
    this.scorer = scorer;
  }

  /** Takes a reference for one request; false once the model is retired and closed. */
  boolean acquire() {
    while (true) {
      int r = refs.get();
      if (r == 0) {
        return false;
      }
      if (refs.compareAndSet(r, r + 1)) {
        return true;
      }
    }
  }

  /** Gives back a request's reference. */
  public void release() {
    if (refs.decrementAndGet() == 0) {
      try {
        scorer.close();
      } catch (RuntimeException e) {
        // the request that happened to release last has its answer already; never fail it
        LoggerFactory.getLogger(ServingModel.class)
            .warn("ranker: closing model {}@{} failed: {}", name, version, e.toString());
      }
    }
  }

  /** Drops the slot's reference: the session closes when the last request releases. */
  void retire() {
    release();
  }

  public boolean closed() {
    return refs.get() == 0;
  }

  public Scorer scorer() {
    return scorer;
  }

  public String name() {
    return name;
  }

  public String version() {
    return version;
  }

  public String architecture() {
    return architecture;
  }

  public int featureSchemaVersion() {
    return featureSchemaVersion;
  }

  public Instant loadedAt() {
    return loadedAt;
  }
}
