package io.feedrank.streams.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A {@link FeatureWriter} in front of {@code delegate} that, once armed, holds the {@link
 * AsyncFeatureWriter}'s thread on the next batch until released: what is submitted meanwhile waits
 * behind it and is merged, as when Redis is slow. Every batch it passes on is kept in {@link
 * #written}.
 */
public final class HeldWriter implements FeatureWriter {
  private final FeatureWriter delegate;
  private final AtomicBoolean armed;
  private final CountDownLatch entered = new CountDownLatch(1);
  private final CountDownLatch release = new CountDownLatch(1);

  /** The batches passed on to the delegate, in order. */
  public final List<FeatureWrite> written = new CopyOnWriteArrayList<>();

  /**
   * @param armed whether the first batch is held; else the one after {@link #holdNext}
   */
  public HeldWriter(FeatureWriter delegate, boolean armed) {
    this.delegate = delegate;
    this.armed = new AtomicBoolean(armed);
  }

  /** Holds the next batch (once). */
  public void holdNext() {
    armed.set(true);
  }

  /** Waits until the writer thread is held on a batch. */
  public void awaitHeld() throws InterruptedException {
    assertThat(entered.await(30, TimeUnit.SECONDS)).as("the writer thread held").isTrue();
  }

  /** Lets the held batch, and everything after it, through. */
  public void release() {
    release.countDown();
  }

  @Override
  public void write(List<FeatureWrite> batch) {
    writeFindingLost(batch);
  }

  @Override
  public Set<String> writeFindingLost(List<FeatureWrite> batch) {
    if (armed.getAndSet(false)) {
      entered.countDown();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    written.addAll(batch);
    return delegate.writeFindingLost(batch);
  }

  @Override
  public void close() {
    delegate.close();
  }
}
