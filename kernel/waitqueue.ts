/** A list of sleepers woken together: the kernel's wait_queue_head, as promises. */
export class WaitQueue {
  private waiters: Array<() => void> = [];

  /** A promise that settles at the next wake(). */
  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }
}
