package io.beamgate.security.policy;

/** The policy's answer for one request: allowed by a rule, or denied with the reason. */
public record Decision(boolean allowed, Rule rule, String reason, boolean shadowDenied) {
  static Decision allow(Rule r) {
    return new Decision(true, r, null, false);
  }

  static Decision deny(Rule r, String reason) {
    return new Decision(false, r, reason, false);
  }
}
