/**
 * POSIX per-process timers (timer_create): each process's table of timers and
 * what an expiry does. Linux: kernel/time/posix-timers.c. A timer's signal is
 * queued once; expiries while it is still pending only add to its overrun,
 * which the signal reports when it is taken (si_overrun).
 */
import { ClockTimer } from "./hrtimer";
import type { ThreadGroup } from "./process";
import type { PendingSignal } from "./signal";
import type { Task } from "./task";

/** sigev_notify values, include/uapi/asm-generic/siginfo.h. */
export const SIGEV_SIGNAL = 0, SIGEV_NONE = 1, SIGEV_THREAD = 2, SIGEV_THREAD_ID = 4;
/** si_code of a timer's signal. */
export const SI_TIMER = -2;
/** DELAYTIMER_MAX: overrun counts are capped at INT_MAX. */
export const DELAYTIMER_MAX = 0x7fffffff;

export class PosixTimer {
  readonly timer: ClockTimer;
  /** The signal of the latest expiry, while it may still be queued. */
  private queued: PendingSignal | undefined;
  /** The overrun of the last signal taken (timer_getoverrun). */
  private lastOverrun = 0;

  constructor(
    readonly id: number,
    readonly clock: number,
    /** The task whose CPU time a CPU-time timer counts (else the creator). */
    readonly clockTask: Task,
    /** The creator: its process gets the signals. */
    readonly owner: Task,
    readonly notify: number,
    readonly signo: number,
    readonly value: bigint,
    /** SIGEV_THREAD_ID's target. */
    readonly target: Task | undefined,
  ) {
    this.timer = new ClockTimer((count) => this.expired(count), notify !== SIGEV_NONE);
    if (notify !== SIGEV_NONE) armedSignalTimers.add(this);
  }

  private isQueued(s: PendingSignal): boolean {
    const g = this.owner.group;
    return g.signals.pending.includes(s) || [...g.threads].some((th) => th.signals.pending.includes(s));
  }

  /** timer_getoverrun: from the signal last taken. */
  overrun(): number {
    if (this.queued && !this.isQueued(this.queued)) this.lastOverrun = this.queued.overrun ?? 0;
    return this.lastOverrun;
  }

  private expired(count: bigint): void {
    const prev = this.queued;
    if (prev && this.isQueued(prev)) {
      prev.overrun = Math.min(DELAYTIMER_MAX, (prev.overrun ?? 0) + Number(count));
      return;
    }
    if (prev) this.lastOverrun = prev.overrun ?? 0;
    const info: PendingSignal = {
      sig: this.signo, code: SI_TIMER, timerid: this.id, overrun: Math.min(DELAYTIMER_MAX, Number(count - 1n)), value: this.value,
    };
    this.queued = info;
    const k = this.owner.kernel;
    if (this.target) k.signalThread(this.target, info);
    else k.signalGroup(this.owner.group, info);
  }

  delete(): void {
    this.timer.disarm();
    armedSignalTimers.delete(this);
  }
}

/** Timers whose expiry sends a signal: a lone busy task must then still be sliced so it gets the signal. */
const armedSignalTimers = new Set<PosixTimer>();

export function signalTimersArmed(): boolean {
  for (const p of armedSignalTimers) if (p.timer.armed) return true;
  return false;
}

/** Each process's timers by id; fork starts a child without any. */
const tables = new WeakMap<ThreadGroup, { next: number; timers: Map<number, PosixTimer> }>();

export function timerTable(g: ThreadGroup): { next: number; timers: Map<number, PosixTimer> } {
  let tab = tables.get(g);
  if (!tab) tables.set(g, (tab = { next: 0, timers: new Map() }));
  return tab;
}

/** execve and exit delete every timer of the process (exit_itimers). */
export function releaseTimers(g: ThreadGroup): void {
  const tab = tables.get(g);
  if (!tab) return;
  for (const p of tab.timers.values()) p.delete();
  tables.delete(g);
}
