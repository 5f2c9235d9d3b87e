/**
 * Turn-taking on one connection: a first-come, first-served lock.
 *
 * The SQLite store shares one synchronous connection among every request of
 * the process. A transaction written as async code awaits between its
 * statements, and while it waits other requests run; a statement of theirs
 * on the shared connection would land inside the open transaction (and be
 * rolled back with it), and their own BEGIN would fail. So a transaction
 * holds the turn from BEGIN to COMMIT, and a write outside it waits for the
 * turn, or runs at once when nobody holds it. (Reads outside a transaction
 * use a connection of their own and never wait: sqlite.ts.)
 */
export class Turns {
  private held = false;
  private readonly waiting: Array<() => void> = [];

  /** True when nobody holds the turn (and so nobody waits for it either). */
  get free(): boolean {
    return !this.held;
  }

  /** Resolves once the caller holds the turn, to the function that hands it on (once; later calls do nothing). */
  async take(): Promise<() => void> {
    if (this.held) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.held = true;
    let handedOn = false;
    return () => {
      if (handedOn) return;
      handedOn = true;
      // Handed straight to the next in line: `held` stays true, so nobody can slip in between.
      const next = this.waiting.shift();
      if (next) next();
      else this.held = false;
    };
  }
}
