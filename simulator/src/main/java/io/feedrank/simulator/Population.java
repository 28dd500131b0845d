package io.feedrank.simulator;

import io.feedrank.events.Device;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.UserProfile;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The simulated world, drawn once from the seed: users in behaviour clusters with category
 * affinities, device preference and a peak hour; items in categories of uneven size with power-law
 * popularity and a latent quality. Arrays of primitives (struct of arrays) so a 10,000 × 50,000
 * world costs a few MB and draws are O(1).
 */
final class Population {
  static final String[] CATEGORY_NAMES = {
    "news", "sports", "music", "movies", "gaming", "tech", "science", "travel", "food", "fashion",
    "fitness", "finance", "politics", "comedy", "pets", "diy", "cars", "books", "art", "parenting",
    "health", "education", "history", "nature"
  };

  static final String[] COUNTRIES = {"US", "DE", "GB", "FR", "IN", "BR", "JP", "ES", "IT", "CA"};

  /** Zipf exponent of item popularity. */
  static final double POPULARITY_EXPONENT = 1.05;

  /** Log-normal spread of a user's category weights (larger = more concentrated tastes). */
  static final double AFFINITY_SIGMA = 1.3;

  enum Cluster {
    POWER(0.10, 5.0, 0.3),
    CASUAL(0.70, 1.0, 0.0),
    NEW(0.20, 0.5, -0.2);

    final double share;
    final double activity;
    final double clickBias;

    Cluster(double share, double activity, double clickBias) {
      this.share = share;
      this.activity = activity;
      this.clickBias = clickBias;
    }
  }

  final int users;
  final int categories;
  final Instant start;

  // users (index = user_id - 1)
  final Cluster[] cluster;
  final float[] affinity; // users × categories, each row sums to 1
  final double[][] affinityCdf; // per user cumulative affinity, for category draws
  final Device[] primaryDevice;
  final int[] peakHour;
  final String[] country;
  final long[] userCreatedMillis;
  final AliasTable userActivity;

  // items (index = item_id - 1); grows with new items
  int items;
  int[] itemCategory;
  float[] quality;
  long[] itemCreatedMillis;
  int[] contentLength;
  long[] creator;
  final AliasTable itemPopularity;
  final AliasTable[] itemsByCategory;
  final int[][] categoryMembers;
  final double[] categoryShare;

  Population(SimulatorConfig config, SplittableRandom r) {
    this.users = config.users();
    this.categories = config.categories();
    this.start = config.startTime();
    long startMillis = start.toEpochMilli();
    long day = Duration.ofDays(1).toMillis();

    cluster = new Cluster[users];
    affinity = new float[users * categories];
    affinityCdf = new double[users][];
    primaryDevice = new Device[users];
    peakHour = new int[users];
    country = new String[users];
    userCreatedMillis = new long[users];
    double[] activity = new double[users];
    for (int u = 0; u < users; u++) {
      double c = r.nextDouble();
      cluster[u] =
          c < Cluster.POWER.share
              ? Cluster.POWER
              : c < Cluster.POWER.share + Cluster.CASUAL.share ? Cluster.CASUAL : Cluster.NEW;
      activity[u] = cluster[u].activity * Math.exp(0.5 * gaussian(r));
      double sum = 0;
      double[] w = new double[categories];
      for (int k = 0; k < categories; k++) {
        w[k] = Math.exp(AFFINITY_SIGMA * gaussian(r));
        sum += w[k];
      }
      double[] cdf = new double[categories];
      double acc = 0;
      for (int k = 0; k < categories; k++) {
        affinity[u * categories + k] = (float) (w[k] / sum);
        acc += w[k] / sum;
        cdf[k] = acc;
      }
      affinityCdf[u] = cdf;
      double d = r.nextDouble();
      primaryDevice[u] = d < 0.62 ? Device.MOBILE : d < 0.90 ? Device.DESKTOP : Device.TABLET;
      peakHour[u] = (int) Math.floorMod(Math.round(20 + 4 * gaussian(r)), 24L);
      country[u] = COUNTRIES[r.nextInt(COUNTRIES.length)];
      long ageDays = cluster[u] == Cluster.NEW ? r.nextInt(7) : 30 + r.nextInt(1000);
      userCreatedMillis[u] = startMillis - ageDays * day - r.nextInt((int) day);
    }
    userActivity = new AliasTable(activity);

    // categories of uneven size
    categoryShare = new double[categories];
    double total = 0;
    for (int k = 0; k < categories; k++) {
      categoryShare[k] = 1.0 / Math.pow(k + 2, 0.7);
      total += categoryShare[k];
    }
    for (int k = 0; k < categories; k++) {
      categoryShare[k] /= total;
    }
    AliasTable categoryDraw = new AliasTable(categoryShare);

    items = config.items();
    int capacity = items + items / 5 + 1; // room for a new-item flood
    itemCategory = new int[capacity];
    quality = new float[capacity];
    itemCreatedMillis = new long[capacity];
    contentLength = new int[capacity];
    creator = new long[capacity];
    // popularity ranks: a random permutation, so id says nothing about popularity
    int[] rank = new int[items];
    for (int i = 0; i < items; i++) {
      rank[i] = i;
    }
    for (int i = items - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      int t = rank[i];
      rank[i] = rank[j];
      rank[j] = t;
    }
    double[] popularity = new double[items];
    for (int i = 0; i < items; i++) {
      itemCategory[i] = categoryDraw.sample(r);
      popularity[i] = 1.0 / Math.pow(rank[i] + 1, POPULARITY_EXPONENT);
      // quality correlates only weakly with popularity: popularity alone ranks poorly
      double z = -Math.log(rank[i] + 1.0) / Math.log(items + 1.0) * 2 + 1;
      quality[i] = (float) (0.25 * z + 0.97 * gaussian(r));
      itemCreatedMillis[i] = startMillis - (long) (r.nextDouble() * 90 * day);
      contentLength[i] =
          (int) Math.max(5, Math.min(1800, Math.round(60 * Math.exp(0.8 * gaussian(r)))));
      creator[i] = 1 + r.nextInt(Math.max(1, items / 20));
    }
    itemPopularity = new AliasTable(popularity);
    List<List<Integer>> members = new ArrayList<>();
    for (int k = 0; k < categories; k++) {
      members.add(new ArrayList<>());
    }
    for (int i = 0; i < items; i++) {
      members.get(itemCategory[i]).add(i);
    }
    categoryMembers = new int[categories][];
    itemsByCategory = new AliasTable[categories];
    for (int k = 0; k < categories; k++) {
      List<Integer> m = members.get(k);
      if (m.isEmpty()) {
        m.add(k % items); // tiny catalogs: borrow an item so every category can be drawn
      }
      categoryMembers[k] = m.stream().mapToInt(Integer::intValue).toArray();
      double[] w = new double[m.size()];
      for (int j = 0; j < w.length; j++) {
        w[j] = popularity[categoryMembers[k][j]];
      }
      itemsByCategory[k] = new AliasTable(w);
    }
  }

  /** Adds {@code n} items created at {@code createdMillis}; returns the first new index. */
  int addItems(int n, long createdMillis, SplittableRandom r) {
    int first = items;
    for (int i = first; i < first + n; i++) {
      itemCategory[i] = r.nextInt(categories);
      quality[i] = (float) (-0.3 + gaussian(r));
      itemCreatedMillis[i] = createdMillis + r.nextInt(60_000);
      contentLength[i] =
          (int) Math.max(5, Math.min(1800, Math.round(60 * Math.exp(0.8 * gaussian(r)))));
      creator[i] = 1 + r.nextInt(Math.max(1, first / 20));
    }
    items = first + n;
    return first;
  }

  UserProfile userProfile(int u) {
    return UserProfile.newBuilder()
        .setUserId(u + 1L)
        .setCreatedAt(Instant.ofEpochMilli(userCreatedMillis[u]))
        .setCountry(country[u])
        .setPrimaryDevice(primaryDevice[u])
        .build();
  }

  ItemMetadata itemMetadata(int i) {
    return ItemMetadata.newBuilder()
        .setItemId(i + 1L)
        .setCategory(CATEGORY_NAMES[itemCategory[i]])
        .setCreatedAt(Instant.ofEpochMilli(itemCreatedMillis[i]))
        .setContentLength(contentLength[i])
        .setCreatorId(creator[i])
        .build();
  }

  float affinity(int u, int category) {
    return affinity[u * categories + category];
  }

  static double gaussian(SplittableRandom r) {
    // Box-Muller on the seeded generator (SplittableRandom has no nextGaussian on Java 17)
    double u1 = 1.0 - r.nextDouble();
    double u2 = r.nextDouble();
    return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
