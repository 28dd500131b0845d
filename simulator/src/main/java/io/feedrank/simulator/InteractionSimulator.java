package io.feedrank.simulator;

import io.feedrank.events.Device;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.UserProfile;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;

/**
 * Plays the apps' producers: a reproducible stream of {@link InteractionEvent}s over a seeded
 * {@link Population}, with the ground truth of {@link EngagementModel} and an optional drift {@link
 * Scenario}. Same {@link SimulatorConfig} → the same users, items and events, bit for bit (unless
 * {@code realTime}, where event time is the wall clock). Not thread-safe.
 *
 * <p>Impressions: a user is drawn by activity (power users ~5× casual ones); the item by item
 * popularity (60%) or from one of the user's favourite categories (40%); the device is the user's
 * usual one 80% of the time. Event time advances by exponential gaps at {@code
 * eventsPerEventSecond} shaped by a diurnal curve peaking at 20:00 UTC and busier weekends.
 */
public final class InteractionSimulator {
  static final double POPULARITY_DRAW_SHARE = 0.6;
  static final double PRIMARY_DEVICE_SHARE = 0.8;
  static final int POSITIONS = 20;
  static final int TRENDING_CATEGORIES = 3;
  static final double FLOOD_ITEM_SHARE = 0.2;
  static final double FLOOD_IMPRESSION_SHARE = 0.5;
  static final double CTR_DROP_LOGIT = 1.2;
  private static final Device[] DEVICES = {Device.MOBILE, Device.DESKTOP, Device.TABLET};
  private static final double[] SHIFTED_DEVICE_CDF = {0.15, 0.75, 1.0}; // mobile, desktop, tablet
  private static final double DAY_MILLIS = 86_400_000.0;

  /** The diurnal curve's lowest value (at 08:00 UTC): the quietest rate per unit of rate. */
  public static final double QUIETEST = 0.45;

  /** The diurnal curve's mean over a day: 0.45 + 0.55 / 2 (the cosine averages to zero). */
  static final double DAILY_MEAN = 0.725;

  /** How much busier a weekend day is. */
  static final double WEEKEND = 1.15;

  private static final double MAX_WEEKS = 100 * 52;

  private final SimulatorConfig config;
  private final SplittableRandom random;
  private final Population world;
  private final int[] trending;
  private final boolean[] isTrending;
  private double eventTimeMillis;
  private long emitted;
  private boolean scenarioStarted;
  private long scenarioStartMillis;
  private int floodFirst = -1;
  private int floodCount;
  private final List<ItemMetadata> pendingNewItems = new ArrayList<>();

  public InteractionSimulator(SimulatorConfig config) {
    this.config = config;
    this.random = new SplittableRandom(config.seed());
    this.world = new Population(config, random.split());
    this.eventTimeMillis = config.startTime().toEpochMilli();
    this.scenarioStartMillis =
        config.scenario() == Scenario.NONE ? Long.MAX_VALUE : config.scenarioStart().toEpochMilli();
    SplittableRandom trendRandom = random.split();
    int half = config.categories() / 2;
    int[] candidates = new int[config.categories() - half];
    for (int i = 0; i < candidates.length; i++) {
      candidates[i] = half + i;
    }
    int n = Math.min(TRENDING_CATEGORIES, candidates.length);
    for (int i = 0; i < n; i++) {
      int j = i + trendRandom.nextInt(candidates.length - i);
      int t = candidates[i];
      candidates[i] = candidates[j];
      candidates[j] = t;
    }
    trending = java.util.Arrays.copyOf(candidates, n);
    isTrending = new boolean[config.categories()];
    for (int k : trending) {
      isTrending[k] = true;
    }
  }

  public SimulatorConfig config() {
    return config;
  }

  /** Every user's profile, for the compacted {@code users} topic. */
  public List<UserProfile> userProfiles() {
    List<UserProfile> out = new ArrayList<>(world.users);
    for (int u = 0; u < world.users; u++) {
      out.add(world.userProfile(u));
    }
    return out;
  }

  /** The initial catalog, for the compacted {@code items} topic. */
  public List<ItemMetadata> itemMetadata() {
    List<ItemMetadata> out = new ArrayList<>(config.items());
    for (int i = 0; i < config.items(); i++) {
      out.add(world.itemMetadata(i));
    }
    return out;
  }

  /** Items a scenario created since the last call (publish them before the next events). */
  public List<ItemMetadata> drainNewItems() {
    if (pendingNewItems.isEmpty()) {
      return List.of();
    }
    List<ItemMetadata> out = List.copyOf(pendingNewItems);
    pendingNewItems.clear();
    return out;
  }

  /** Names of the categories a CATEGORY_SHIFT moves preferences to. */
  public List<String> trendingCategories() {
    List<String> out = new ArrayList<>();
    for (int k : trending) {
      out.add(Population.CATEGORY_NAMES[k]);
    }
    return out;
  }

  /** Event time of the next event (simulated) or now (real time). */
  public synchronized Instant eventTime() {
    return config.realTime() ? Instant.now() : Instant.ofEpochMilli((long) eventTimeMillis);
  }

  public synchronized long emitted() {
    return emitted;
  }

  /** Whether the scenario is in force for the events being generated now. */
  public synchronized boolean scenarioActive() {
    return scenarioStarted;
  }

  /**
   * Moves the configured scenario's start to {@code at} (event time), e.g. to start it now in a
   * running stream; it still starts only once.
   */
  public synchronized void startScenarioAt(Instant at) {
    if (config.scenario() == Scenario.NONE) {
      throw new IllegalStateException("no scenario configured");
    }
    if (!scenarioStarted) {
      scenarioStartMillis = at.toEpochMilli();
    }
  }

  /** The next interaction. */
  public synchronized InteractionEvent next() {
    long t = config.realTime() ? System.currentTimeMillis() : advanceEventTime();
    maybeStartScenario(t);
    double strength = scenarioStarted ? config.scenarioStrength() : 0;
    Scenario scenario = config.scenario();

    int u = world.userActivity.sample(random);
    Device device = drawDevice(u, scenario == Scenario.DEVICE_SHIFT ? strength : 0, random);
    int item = drawItem(u, scenario, strength, random);
    int position = random.nextInt(POSITIONS);
    emitted++;
    return engage(u, item, device, position, t, null, random);
  }

  /**
   * A feed request as an app makes it: a user drawn by activity, the device they are on, the
   * current event time, and {@code n} distinct candidate items drawn the way impressions are (by
   * popularity or from the user's favourite categories, moved by an active scenario). Draws from
   * {@code rnd}, so the stream of {@link #next()} is the same with or without requests.
   */
  public synchronized FeedRequest feedRequest(int n, SplittableRandom rnd) {
    if (n < 1 || n > world.items / 2) {
      throw new IllegalArgumentException(
          "candidates must be within 1.." + world.items / 2 + ", got " + n);
    }
    long t = config.realTime() ? System.currentTimeMillis() : (long) eventTimeMillis;
    double strength = scenarioStarted ? config.scenarioStrength() : 0;
    Scenario scenario = config.scenario();
    int u = world.userActivity.sample(rnd);
    Device device = drawDevice(u, scenario == Scenario.DEVICE_SHIFT ? strength : 0, rnd);
    java.util.LinkedHashSet<Long> items = new java.util.LinkedHashSet<>();
    while (items.size() < n) {
      items.add(drawItem(u, scenario, strength, rnd) + 1L);
    }
    return new FeedRequest(u + 1L, device, Instant.ofEpochMilli(t), List.copyOf(items));
  }

  /**
   * How the user of {@code request} reacts to the feed they were served: one impression per shown
   * item at its 0-based position, with the same ground truth as {@link #next()}, carrying {@code
   * requestId} so the response and its outcome can be joined.
   */
  public synchronized List<InteractionEvent> react(
      FeedRequest request, List<Long> shown, String requestId, SplittableRandom rnd) {
    int u = (int) (request.userId() - 1);
    long t = request.eventTime().toEpochMilli();
    List<InteractionEvent> out = new ArrayList<>(shown.size());
    for (int p = 0; p < shown.size(); p++) {
      long id = shown.get(p);
      if (id < 1 || id > world.items) {
        throw new IllegalArgumentException("item " + id + " is not in the simulated catalog");
      }
      out.add(engage(u, (int) (id - 1), request.device(), p, t + p, requestId, rnd));
    }
    return out;
  }

  /** A user's feed request: who, on which device, when, and the candidate item ids. */
  public record FeedRequest(long userId, Device device, Instant eventTime, List<Long> candidates) {}

  /** The user's outcome on one impression, drawn from {@code rnd}. */
  private InteractionEvent engage(
      int u,
      int item,
      Device device,
      int position,
      long t,
      String requestId,
      SplittableRandom rnd) {
    double strength = scenarioStarted ? config.scenarioStrength() : 0;
    Scenario scenario = config.scenario();
    int category = world.itemCategory[item];
    double affinity =
        effectiveAffinity(u, category, scenario == Scenario.CATEGORY_SHIFT ? strength : 0);
    ZonedDateTime utc = Instant.ofEpochMilli(t).atZone(ZoneOffset.UTC);
    double ageDays = Math.max(0, (t - world.itemCreatedMillis[item]) / DAY_MILLIS);
    double shift = scenario == Scenario.CTR_DROP ? -CTR_DROP_LOGIT * strength : 0;
    double logit =
        EngagementModel.clickLogit(
            affinity,
            world.categories,
            world.quality[item],
            world.cluster[u].clickBias,
            utc.getHour(),
            world.peakHour[u],
            device,
            world.primaryDevice[u],
            position,
            ageDays,
            shift);
    boolean click = rnd.nextDouble() < EngagementModel.sigmoid(logit);
    boolean like =
        click
            && rnd.nextDouble()
                < EngagementModel.likeGivenClick(world.quality[item], affinity, world.categories);
    boolean share =
        click && rnd.nextDouble() < EngagementModel.shareGivenClick(world.quality[item]);
    float dwell = dwellSeconds(click, item, rnd);
    return InteractionEvent.newBuilder()
        .setInteractionId(uuid(rnd))
        .setUserId(u + 1L)
        .setItemId(item + 1L)
        .setEventTime(Instant.ofEpochMilli(t))
        .setClick(click)
        .setLike(like)
        .setShare(share)
        .setDwellSeconds(dwell)
        .setDevice(device)
        .setRequestId(requestId)
        .setPosition(position)
        .build();
  }

  private long advanceEventTime() {
    long now = (long) eventTimeMillis;
    double rate = eventsPerSecondAt(now, config.eventsPerEventSecond());
    eventTimeMillis += -Math.log(1.0 - random.nextDouble()) / rate * 1000.0;
    return now;
  }

  /**
   * The event rate at event time {@code millis}, events per second of event time: {@code
   * eventsPerEventSecond} shaped by the diurnal curve (peak at 20:00 UTC, its minute's value) and
   * busier weekends. Over a weekday it averages {@code 0.725 × eventsPerEventSecond}.
   */
  static double eventsPerSecondAt(long millis, double eventsPerEventSecond) {
    ZonedDateTime utc = Instant.ofEpochMilli(millis).atZone(ZoneOffset.UTC);
    double hour = utc.getHour() + utc.getMinute() / 60.0;
    double diurnal = QUIETEST + 0.55 * (1 + Math.cos(2 * Math.PI * (hour - 20) / 24)) / 2;
    double weekend = utc.getDayOfWeek().getValue() >= 6 ? WEEKEND : 1.0;
    return eventsPerEventSecond * diurnal * weekend;
  }

  /**
   * Where a stream of {@code count} events must start for its event time to reach {@code end} with
   * its last event, as expected from the rate curve ({@link #eventsPerSecondAt}): the expected
   * number of events in {@code [start, end)} is {@code count}. The actual end differs by the
   * randomness of the gaps, about {@code √count} events' worth of time.
   */
  public static Instant startToEndAt(Instant end, long count, double eventsPerEventSecond) {
    if (count < 0 || !(eventsPerEventSecond > 0)) {
      throw new IllegalArgumentException(
          "count >= 0 and events per event second > 0, got "
              + count
              + " and "
              + eventsPerEventSecond);
    }
    // whole weeks at once (a week's events: 7 days at the curve's daily mean, two of them
    // weekend days), then back from there a minute (the rate's step) or the part of one at a time
    double perWeek = eventsPerEventSecond * 86_400 * DAILY_MEAN * (5 + 2 * WEEKEND);
    double weeks = Math.floor(count / perWeek);
    if (weeks > MAX_WEEKS) {
      throw new IllegalArgumentException(
          count + " events at " + eventsPerEventSecond + " per event second span over 100 years");
    }
    long t = end.toEpochMilli() - (long) weeks * 7 * 86_400_000L;
    double left = count - weeks * perWeek;
    while (left > 0) {
      long minuteStart = Math.floorDiv(t - 1, 60_000L) * 60_000L;
      double rate = eventsPerSecondAt(minuteStart, eventsPerEventSecond);
      double inMinute = rate * (t - minuteStart) / 1000.0;
      if (inMinute >= left) {
        return Instant.ofEpochMilli(t - (long) Math.ceil(left / rate * 1000.0));
      }
      left -= inMinute;
      t = minuteStart;
    }
    return Instant.ofEpochMilli(t);
  }

  private void maybeStartScenario(long t) {
    if (scenarioStarted || config.scenario() == Scenario.NONE || t < scenarioStartMillis) {
      return;
    }
    scenarioStarted = true;
    if (config.scenario() == Scenario.NEW_ITEM_FLOOD) {
      floodCount = Math.max(1, (int) Math.round(config.items() * FLOOD_ITEM_SHARE));
      floodFirst = world.addItems(floodCount, t, random);
      for (int i = floodFirst; i < floodFirst + floodCount; i++) {
        pendingNewItems.add(world.itemMetadata(i));
      }
    }
  }

  private Device drawDevice(int u, double shiftStrength, SplittableRandom random) {
    if (shiftStrength > 0 && random.nextDouble() < shiftStrength) {
      double d = random.nextDouble();
      for (int i = 0; i < DEVICES.length; i++) {
        if (d < SHIFTED_DEVICE_CDF[i]) {
          return DEVICES[i];
        }
      }
    }
    if (random.nextDouble() < PRIMARY_DEVICE_SHARE) {
      return world.primaryDevice[u];
    }
    return DEVICES[random.nextInt(DEVICES.length)];
  }

  private int drawItem(int u, Scenario scenario, double strength, SplittableRandom random) {
    if (scenario == Scenario.NEW_ITEM_FLOOD
        && floodFirst >= 0
        && random.nextDouble() < FLOOD_IMPRESSION_SHARE * strength) {
      return floodFirst + random.nextInt(floodCount);
    }
    if (random.nextDouble() < POPULARITY_DRAW_SHARE) {
      return world.itemPopularity.sample(random);
    }
    int category;
    if (scenario == Scenario.CATEGORY_SHIFT && strength > 0 && random.nextDouble() < strength) {
      category = trending[random.nextInt(trending.length)];
    } else {
      double[] cdf = world.affinityCdf[u];
      double x = random.nextDouble();
      category = 0;
      while (category < cdf.length - 1 && x >= cdf[category]) {
        category++;
      }
    }
    return world.categoryMembers[category][world.itemsByCategory[category].sample(random)];
  }

  /** The user's affinity to a category, moved toward the trending categories by a shift. */
  private double effectiveAffinity(int u, int category, double shiftStrength) {
    double base = world.affinity(u, category);
    if (shiftStrength <= 0) {
      return base;
    }
    double trend = isTrending[category] ? 1.0 / trending.length : 0.0;
    return (1 - shiftStrength) * base + shiftStrength * trend;
  }

  private float dwellSeconds(boolean click, int item, SplittableRandom random) {
    double seconds;
    if (click) {
      double median = 0.4 * world.contentLength[item] * Math.exp(0.3 * world.quality[item]);
      seconds = median * Math.exp(0.6 * Population.gaussian(random));
    } else {
      seconds = -1.5 * Math.log(1.0 - random.nextDouble());
    }
    return (float) Math.min(3600.0, Math.max(0.0, seconds));
  }

  private static String uuid(SplittableRandom random) {
    long msb = (random.nextLong() & ~0xF000L) | 0x4000L; // version 4
    long lsb = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L; // IETF variant
    return new UUID(msb, lsb).toString();
  }
}
