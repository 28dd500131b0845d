package io.feedrank.drift.job;

import java.io.Serializable;

/**
 * When a window counts as drifted (DESIGN §5): PSI above {@code psi}, or KS statistic above {@code
 * ks} with p below {@code pValue} (numeric features and scores), or chi-square p below {@code
 * pValue} together with PSI above half of {@code psi} (categorical: on large windows a tiny shift
 * is significant, so significance alone is not drift), or for scores a relative change of the mean
 * above {@code meanChange}.
 */
public record DriftThresholdsConfig(double psi, double ks, double pValue, double meanChange)
    implements Serializable {

  public static DriftThresholdsConfig defaults() {
    return new DriftThresholdsConfig(0.2, 0.1, 0.01, 0.10);
  }

  boolean drifted(Report r) {
    if (r.psi > psi) {
      return true;
    }
    if (r.ksStatistic != null && r.ksPValue != null && r.ksStatistic > ks && r.ksPValue < pValue) {
      return true;
    }
    if (r.chi2PValue != null && r.chi2PValue < pValue && r.psi > psi / 2) {
      return true;
    }
    return "PREDICTION".equals(r.kind)
        && r.meanRelativeChange != null
        && Math.abs(r.meanRelativeChange) > meanChange;
  }
}
