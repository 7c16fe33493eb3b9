/**
 * Marks the window in which a machine moves from one host process to another (a live migration):
 * until the destination has taken over, calls to the guest may reach a paused source, hang, or fail
 * when the source's agent goes away. Watchers of the application wait for the gate and retry a call
 * that failed while it was closed, so the application is followed onto the destination instead of
 * being taken for ended.
 */
export class HandoverGate {
  private open: Promise<void> = Promise.resolve();
  private release: (() => void) | undefined;
  private generation = 0;

  /** Close the gate; the returned function opens it again (idempotent). Handovers never nest. */
  begin(): () => void {
    this.release?.();
    this.generation++;
    let release!: () => void;
    this.open = new Promise<void>((resolve) => (release = resolve));
    this.release = release;
    return () => {
      if (this.release !== release) return;
      this.release = undefined;
      release();
    };
  }

  /** Resolves at once when no handover is under way, otherwise when it ends (completed or not). */
  settled(): Promise<void> {
    return this.open;
  }

  get busy(): boolean {
    return this.release !== undefined;
  }

  /**
   * Run `call` against the machine as it is after any handover. A call that fails while a handover
   * began or was under way is retried once the gate opens (it reached the source, which is gone);
   * any other failure is the call's own.
   */
  async follow<T>(call: () => Promise<T>): Promise<T> {
    for (;;) {
      await this.settled();
      const before = this.generation;
      try {
        return await call();
      } catch (error) {
        if (this.generation === before && !this.busy) throw error;
      }
    }
  }
}
