package io.beamgate.gateway.admission;

/**
 * A client's word that it may run a call again elsewhere when the outcome is unknown
 * ({@code Call.idempotent}). The gateway holds it to the policy: the rule that admitted the
 * call must say {@code idempotent: true}, or the call is refused before it runs. So a client
 * that retries only what it declared retries only what the policy's author allowed to run
 * twice, and learns of a wrong declaration from the first call, not from a failure.
 */
public final class RetryDeclaration {
  private RetryDeclaration() {}

  /** Why {@code a}, declared idempotent or not, may not run; null when it may. */
  public static String refusal(Admission.Admitted a, boolean declaredIdempotent) {
    if (!declaredIdempotent || a.rule.idempotent()) {
      return null;
    }
    return a.request.what() + " is declared idempotent by the client, but rule " + a.rule.id()
        + " does not mark it so (idempotent: true in the policy): call it without the"
        + " declaration, or ask the policy's author whether it may run twice";
  }
}
