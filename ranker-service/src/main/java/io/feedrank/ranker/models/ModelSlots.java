package io.feedrank.ranker.models;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The production and staging models being served. A swap is one atomic reference update; requests
 * already holding the old model finish with it, and it closes after the last of them.
 */
public final class ModelSlots {
  public enum Variant {
    PRODUCTION,
    STAGING;

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** A model taken for one request; {@link #close} gives it back. */
  public record Lease(ServingModel model, Variant variant) implements AutoCloseable {
    @Override
    public void close() {
      model.release();
    }
  }

  private final AtomicReference<ServingModel> production = new AtomicReference<>();
  private final AtomicReference<ServingModel> staging = new AtomicReference<>();
  private final double stagingShare;
  private boolean cleared; // guarded by this

  /**
   * @param stagingShare the share of users (by a stable hash of their id) served by the staging
   *     model while there is one
   */
  public ModelSlots(double stagingShare) {
    this.stagingShare = stagingShare;
  }

  /** Whether any user is served by a staging model: a share of 0 serves none. */
  public boolean servesStaging() {
    return stagingShare > 0;
  }

  /** The model for this user, or empty when none is loaded. */
  public Optional<Lease> lease(long userId) {
    if (stagingShare > 0 && inStagingShare(userId, stagingShare)) {
      Optional<Lease> s = take(staging, Variant.STAGING);
      if (s.isPresent()) {
        return s;
      }
    }
    return take(production, Variant.PRODUCTION);
  }

  private static Optional<Lease> take(AtomicReference<ServingModel> slot, Variant v) {
    while (true) {
      ServingModel m = slot.get();
      if (m == null) {
        return Optional.empty();
      }
      if (m.acquire()) {
        return Optional.of(new Lease(m, v));
      }
      // retired between get and acquire: the slot holds its successor now
    }
  }

  /**
   * Whether a user falls into the staging share: a fixed 64-bit mix of the id mapped to [0, 1), so
   * a user stays in the same variant for as long as the share is unchanged.
   */
  public static boolean inStagingShare(long userId, double share) {
    long z = userId * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 32)) * 0xD6E8FEB86659FD93L;
    z = z ^ (z >>> 32);
    double u = (z >>> 11) * 0x1.0p-53;
    return u < share;
  }

  /**
   * Installs a model in a slot (null empties it) and retires the one it replaces. After {@link
   * #clear} a model is retired at once instead: a load that ends during shutdown leaves no session
   * open.
   */
  public synchronized void install(Variant v, ServingModel m) {
    ServingModel installed = cleared ? null : m;
    ServingModel old = (v == Variant.PRODUCTION ? production : staging).getAndSet(installed);
    if (old != null && old != installed) {
      old.retire();
    }
    if (m != null && installed == null) {
      m.retire();
    }
  }

  public ServingModel current(Variant v) {
    return (v == Variant.PRODUCTION ? production : staging).get();
  }

  /** Retires both models, and any installed later (shutdown). */
  public synchronized void clear() {
    cleared = true;
    install(Variant.PRODUCTION, null);
    install(Variant.STAGING, null);
  }
}
