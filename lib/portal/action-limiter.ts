/** Owners tracked at most; past it, those whose allowance is whole again are forgotten first (they lose nothing). */
const MAX_OWNERS = 10_000;

interface Allowance {
  /** Form posts left (fractional: it refills continuously). */
  left: number;
  /** When `left` was computed (epoch ms). */
  at: number;
}

/**
 * How many form posts each customer may make per minute (a token bucket per owner, in this process): a customer who
 * scripts "send a test event" or "resend" cannot flood their endpoint, the store or the app.
 */
export class ActionLimiter {
  private readonly owners = new Map<string, Allowance>();
  private readonly perMs: number;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.perMs = perMinute / 60_000;
  }

  /** Takes one post from the owner's allowance: 0 when allowed, else the ms until one is available. */
  take(owner: string): number {
    const now = this.now();
    let allowance = this.owners.get(owner);
    if (allowance === undefined) {
      if (this.owners.size >= MAX_OWNERS) this.forgetSome(now);
      allowance = { left: this.perMinute, at: now };
      this.owners.set(owner, allowance);
    } else {
      allowance.left = Math.min(this.perMinute, allowance.left + (now - allowance.at) * this.perMs);
      allowance.at = now;
    }
    if (allowance.left >= 1) {
      allowance.left -= 1;
      return 0;
    }
    return Math.ceil((1 - allowance.left) / this.perMs);
  }

  private forgetSome(now: number): void {
    for (const [owner, a] of this.owners)
      if (a.left + (now - a.at) * this.perMs >= this.perMinute) this.owners.delete(owner);
    // Every one of them is busy: the oldest starts afresh.
    if (this.owners.size >= MAX_OWNERS) this.owners.delete(this.owners.keys().next().value!);
  }
}
