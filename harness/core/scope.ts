import { rmSync } from 'node:fs';

export type ResourceKind = 'process' | 'socket' | 'tempdir' | 'ssh' | 'container' | 'domain' | 'host-state' | 'other';

export interface ResourceSpec {
  name: string;
  kind: ResourceKind;
  /** Gentle, then forceful teardown. Must be idempotent. */
  dispose: () => Promise<void>;
  /**
   * Last-resort synchronous teardown, run from the process `exit` hook when the harness dies
   * before async teardown could run (uncaught error, second Ctrl+C). Kill, unlink, nothing slow.
   */
  disposeSync?: () => void;
}

export interface ResourceHandle {
  readonly name: string;
  /** Tear down now (idempotent) and forget. */
  dispose(): Promise<void>;
  /** Forget without tearing down: ownership moved elsewhere (e.g. the process already exited). */
  release(): void;
}

interface Entry extends ResourceSpec {
  id: number;
  disposed: boolean;
}

/**
 * Every QEMU, socket, temp dir, SSH session and container is registered here *before* it is
 * awaited, and torn down last-in-first-out. Scopes nest: a cell owns a scope, the run owns the
 * root; disposing a scope disposes its children first.
 */
export class ResourceScope {
  private readonly entries: Entry[] = [];
  private readonly children = new Set<ResourceScope>();
  private nextId = 1;
  private closed = false;

  constructor(
    readonly name: string,
    private readonly parent?: ResourceScope,
  ) {
    parent?.children.add(this);
  }

  child(name: string): ResourceScope {
    if (this.closed) throw new Error(`resource scope ${this.name} is already disposed`);
    return new ResourceScope(`${this.name}/${name}`, this);
  }

  register(spec: ResourceSpec): ResourceHandle {
    if (this.closed) {
      // Registered after teardown began (a race with Ctrl+C): tear it down at once.
      void spec.dispose().catch(() => undefined);
      throw new Error(`resource scope ${this.name} is already disposed; ${spec.name} was torn down`);
    }
    const entry: Entry = { ...spec, id: this.nextId++, disposed: false };
    this.entries.push(entry);
    return {
      name: spec.name,
      dispose: async () => {
        this.forget(entry);
        await this.run(entry);
      },
      release: () => this.forget(entry),
    };
  }

  /** Convenience: register a temp directory, removed recursively. */
  registerTempDir(path: string): ResourceHandle {
    return this.register({
      name: `tempdir ${path}`,
      kind: 'tempdir',
      dispose: async () => rmSync(path, { recursive: true, force: true }),
      disposeSync: () => rmSync(path, { recursive: true, force: true }),
    });
  }

  get size(): number {
    let total = this.entries.length;
    for (const child of this.children) total += child.size;
    return total;
  }

  describe(): string[] {
    return [...[...this.children].flatMap((c) => c.describe()), ...this.entries.map((e) => `${e.kind}: ${e.name}`)];
  }

  /** Tear everything down, children first, then own entries LIFO. Returns the errors, never throws. */
  async dispose(): Promise<unknown[]> {
    this.closed = true;
    const errors: unknown[] = [];
    for (const child of [...this.children].reverse()) errors.push(...(await child.dispose()));
    while (this.entries.length > 0) {
      const entry = this.entries.pop()!;
      try {
        await this.run(entry);
      } catch (error) {
        errors.push(error);
      }
    }
    this.parent?.children.delete(this);
    return errors;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    const errors = await this.dispose();
    if (errors.length > 0) throw new AggregateError(errors, `teardown of ${this.name} had ${errors.length} error(s)`);
  }

  /** Synchronous last resort for the exit hook. */
  disposeSync(): void {
    this.closed = true;
    for (const child of [...this.children].reverse()) child.disposeSync();
    while (this.entries.length > 0) {
      const entry = this.entries.pop()!;
      if (entry.disposed) continue;
      entry.disposed = true;
      try {
        entry.disposeSync?.();
      } catch {
        // The process is exiting; nothing else can be done.
      }
    }
  }

  private forget(entry: Entry): void {
    const index = this.entries.indexOf(entry);
    if (index >= 0) this.entries.splice(index, 1);
  }

  private async run(entry: Entry): Promise<void> {
    if (entry.disposed) return;
    entry.disposed = true;
    await entry.dispose();
  }
}

/** The process-wide root scope. `installExitHooks` ties it to the process's life. */
export const rootScope = new ResourceScope('bothworlds');

let hooksInstalled = false;

/**
 * Make sure nothing outlives the harness: on `exit` (any cause) run the synchronous teardown.
 * QEMU children additionally get a parent-death signal, which covers SIGKILL of the harness.
 */
export function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => rootScope.disposeSync());
}
installExitHooks();
