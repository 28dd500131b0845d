package io.feedrank.ranker.models;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The production and staging models being served. A swap is one atomic reference update; requests
 * already holding the old model finish with it, and it closes after the last of them.
 *
 * <p>The A/B assignment is the staging arm's: while the registry has a STAGING version, the users
 * whose place ({@link #inStagingShare}, salted with that version's identity) falls in the share are
 * assigned to staging, whether or not this replica has its model loaded. A user assigned to staging
 * whose model is not here (still loading, refused) is served production and the lease says both, so
 * that the ranking log keeps the assignment (intention to treat).
 */
public final class ModelSlots {
  public enum Variant {
    PRODUCTION,
    STAGING;

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * A model taken for one request; {@link #close} gives it back.
   *
   * @param model the model that scores the request, or null when none is loaded
   * @param variant the slot {@code model} came from (production when none is loaded)
   * @param assigned the arm the user is assigned to: staging also when its model is not loaded here
   */
  public record Lease(ServingModel model, Variant variant, Variant assigned)
      implements AutoCloseable {
    /** The user was assigned to staging and is served production instead. */
    public boolean unserved() {
      return assigned != variant;
    }

    @Override
    public void close() {
      if (model != null) {
        model.release();
      }
    }
  }

  /**
   * The staging arm: the STAGING version the share is for and its salt, with its model when loaded
   * here (null while it loads or after it was refused).
   */
  private record Arm(String name, String version, long salt, ServingModel model) {}

  private final AtomicReference<ServingModel> production = new AtomicReference<>();
  private final AtomicReference<Arm> staging = new AtomicReference<>();
  private final double stagingShare;
  private boolean cleared; // guarded by this

  /**
   * @param stagingShare the share of users (by a stable hash of their id, salted with the staging
   *     version) assigned to the staging model while the registry has one
   */
  public ModelSlots(double stagingShare) {
    this.stagingShare = stagingShare;
  }

  /** Whether any user is served by a staging model: a share of 0 serves none. */
  public boolean servesStaging() {
    return stagingShare > 0;
  }

  /**
   * The model for this user and the arm the user is assigned to; the lease's model is null when
   * none is loaded.
   */
  public Lease lease(long userId) {
    while (true) {
      Arm a = staging.get();
      if (a == null || !inStagingShare(userId, a.salt, stagingShare)) {
        return new Lease(take(production), Variant.PRODUCTION, Variant.PRODUCTION);
      }
      if (a.model == null) {
        return new Lease(take(production), Variant.PRODUCTION, Variant.STAGING);
      }
      if (a.model.acquire()) {
        return new Lease(a.model, Variant.STAGING, Variant.STAGING);
      }
      // retired between get and acquire: the slot holds its successor now, maybe another arm
    }
  }

  private static ServingModel take(AtomicReference<ServingModel> slot) {
    while (true) {
      ServingModel m = slot.get();
      if (m == null || m.acquire()) {
        return m;
      }
      // retired between get and acquire: the slot holds its successor now
    }
  }

  /**
   * Whether a user falls into the staging share of the experiment {@code salt} ({@link #salt}): the
   * id plus the salt plus the golden gamma through SplitMix64's finalizer, mapped to [0, 1). A user
   * stays in the same variant for as long as the share and the staging version are unchanged, a
   * larger share keeps the users of a smaller one, and each staging version draws its own users
   * (two shares of 20% overlap in 4% of users, not 20%). The gamma keeps user 0 off the fixed point
   * 0 of a bare multiply, where it was in every share.
   */
  public static boolean inStagingShare(long userId, long salt, double share) {
    long z = userId + salt + 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z = z ^ (z >>> 31);
    double u = (z >>> 11) * 0x1.0p-53;
    return u < share;
  }

  /**
   * The salt of the experiment of staging version {@code version} of model {@code name}: 64-bit
   * FNV-1a of the UTF-8 bytes of {@code name@version}, the same on every replica and release.
   */
  public static long salt(String name, String version) {
    long h = 0xCBF29CE484222325L;
    for (byte b : (name + "@" + version).getBytes(StandardCharsets.UTF_8)) {
      h = (h ^ (b & 0xFF)) * 0x100000001B3L;
    }
    return h;
  }

  /**
   * Installs a model in a slot (null empties it) and retires the one it replaces; a staging model
   * starts its own arm. After {@link #clear} a model is retired at once instead: a load that ends
   * during shutdown leaves no session open.
   */
  public synchronized void install(Variant v, ServingModel m) {
    ServingModel installed = cleared ? null : m;
    ServingModel old;
    if (v == Variant.PRODUCTION) {
      old = production.getAndSet(installed);
    } else {
      Arm a = installed == null ? null : arm(installed.name(), installed.version(), installed);
      Arm before = staging.getAndSet(a);
      old = before == null ? null : before.model;
    }
    if (old != null && old != installed) {
      old.retire();
    }
    if (m != null && installed == null) {
      m.retire();
    }
  }

  /**
   * Assigns the staging share to STAGING version {@code version} of {@code name} while no staging
   * model is loaded here (it is loading, or was refused): its users are served production, and
   * their leases say they were assigned to staging. Does nothing while a staging model serves.
   */
  public synchronized void expectStaging(String name, String version) {
    Arm a = staging.get();
    if (!cleared && (a == null || a.model == null)) {
      staging.set(arm(name, version, null));
    }
  }

  private static Arm arm(String name, String version, ServingModel model) {
    return new Arm(name, version, salt(name, version), model);
  }

  public ServingModel current(Variant v) {
    if (v == Variant.PRODUCTION) {
      return production.get();
    }
    Arm a = staging.get();
    return a == null ? null : a.model;
  }

  /** Retires both models, and any installed later (shutdown). */
  public synchronized void clear() {
    cleared = true;
    install(Variant.PRODUCTION, null);
    install(Variant.STAGING, null);
  }
}
