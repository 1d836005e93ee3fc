/**
 * A timer on one of the guest's clocks, run as a host timer on the monotonic
 * clock (Linux: kernel/time/hrtimer.c). Periodic timers keep their phase:
 * each expiry moves the deadline by whole intervals and reports how many went
 * by (hrtimer_forward), so a late host callback is counted, not lost.
 */

const now = (): bigint => process.hrtime.bigint();
/** setTimeout's longest delay; a longer wait is taken in pieces. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export class ClockTimer {
  private handle: NodeJS.Timeout | undefined;
  /** Monotonic host ns of the next expiry; undefined while disarmed. */
  private expires: bigint | undefined;
  private period = 0n;

  /**
   * `onExpire` gets the number of expiries since the last call. A timer
   * without `host` is never scheduled (SIGEV_NONE): its state is only read.
   */
  constructor(private readonly onExpire: (count: bigint) => void, private readonly host = true) {}

  get armed(): boolean { return this.expires !== undefined; }
  get interval(): bigint { return this.period; }

  /** Expire `relative` ns from now (at once when not positive), then every `interval` ns if nonzero. */
  arm(relative: bigint, interval: bigint): void {
    this.disarm();
    this.expires = now() + relative;
    this.period = interval;
    if (this.host) this.schedule();
  }

  /** Stop it; the interval is forgotten too. */
  disarm(): void {
    if (this.handle) clearTimeout(this.handle);
    this.handle = undefined;
    this.expires = undefined;
    this.period = 0n;
  }

  /**
   * Nanoseconds to the next expiry, 0 when disarmed or (one-shot) already
   * expired. A periodic timer whose expiry went by is moved forward first.
   */
  remaining(): bigint {
    if (this.expires === undefined) return 0n;
    const at = now();
    if (this.period > 0n && this.expires <= at) this.forward(at);
    return this.expires > at ? this.expires - at : 0n;
  }

  /** Move a periodic timer past `at`: the number of expiries that went by (hrtimer_forward). */
  private forward(at: bigint): bigint {
    if (this.expires === undefined || this.period === 0n || at < this.expires) return 0n;
    const count = (at - this.expires) / this.period + 1n;
    this.expires += count * this.period;
    return count;
  }

  private schedule(): void {
    const ms = Math.min(MAX_DELAY_MS, Math.max(0, Math.ceil(Number(this.expires! - now()) / 1e6)));
    this.handle = setTimeout(() => this.fire(), ms);
    // A guest waiting for the timer keeps the scheduler (and so Node) alive; the timer alone must not.
    this.handle.unref();
  }

  private fire(): void {
    this.handle = undefined;
    if (this.expires === undefined) return;
    const at = now();
    // Node may call back a little early, and long waits come in pieces.
    if (at < this.expires) return this.schedule();
    let count = 1n;
    if (this.period > 0n) {
      count = this.forward(at);
      this.schedule();
    } else this.expires = undefined;
    this.onExpire(count);
  }
}
