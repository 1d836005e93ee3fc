/**
 * What every arch's signal frames share: the full CPU state (FP and vector
 * registers included) is kept by syscage, keyed by frame address, so a
 * handler's frame only needs the general registers the guest can see and
 * change; rt_sigreturn restores the saved state, then applies those.
 */
import type { UnicornCpu } from "../engine";

/** Frames abandoned by siglongjmp are never returned through; keep a bounded number. */
const MAX_SAVED = 64;

export class SavedContexts {
  private readonly byFrame = new Map<number, object>();

  constructor(private readonly cpu: UnicornCpu) {}

  save(frame: number): void {
    this.byFrame.delete(frame);
    this.byFrame.set(frame, this.cpu.saveContext());
    if (this.byFrame.size > MAX_SAVED) this.byFrame.delete(this.byFrame.keys().next().value as number);
  }

  /** Restore the full state saved for `frame`, if syscage built that frame. */
  restore(frame: number): void {
    const ctx = this.byFrame.get(frame);
    if (!ctx) return;
    this.byFrame.delete(frame);
    this.cpu.restoreContext(ctx);
  }
}

/** Round down to a power-of-two alignment. */
export const alignDown = (v: number, a: number): number => v - (v % a);
