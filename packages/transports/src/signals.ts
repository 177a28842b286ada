/**
 * Shutdown on SIGTERM and SIGINT, for processes that serve channels.
 *
 * The first signal closes every server that asked for it, each with its
 * grace period (running calls may finish, new ones get SHUTTING_DOWN, the
 * rest are answered with SHUTTING_DOWN when the grace ends), which also
 * removes their named objects. Then the signal is raised again with the
 * default action, so the process ends the conventional way: killed by that
 * signal (a shell reports 128 + its number, 143 for SIGTERM). A second
 * signal during the grace period ends the process at once.
 *
 * If the application listens for the signal itself, procwire still closes
 * its servers but leaves ending the process to the application.
 */
import type { CloseOptions } from '@procwire/core';

interface Closable {
  close(options?: CloseOptions): Promise<void>;
}

interface Registration {
  readonly server: Closable;
  readonly graceMs: number;
  readonly signals: readonly NodeJS.Signals[];
}

const registrations = new Set<Registration>();
const installed = new Map<NodeJS.Signals, () => void>();
let shuttingDown = false;

function wantedSignals(): Set<NodeJS.Signals> {
  const wanted = new Set<NodeJS.Signals>();
  for (const r of registrations) for (const s of r.signals) wanted.add(s);
  return wanted;
}

function syncHandlers(): void {
  const wanted = wantedSignals();
  for (const [signal, handler] of installed) {
    if (!wanted.has(signal)) {
      process.off(signal, handler);
      installed.delete(signal);
    }
  }
  for (const signal of wanted) {
    if (installed.has(signal)) continue;
    const handler = () => onSignal(signal);
    process.on(signal, handler);
    installed.set(signal, handler);
  }
}

function onSignal(signal: NodeJS.Signals): void {
  if (shuttingDown) return raiseAgain(signal);
  shuttingDown = true;
  const closing = [...registrations]
    .filter((r) => r.signals.includes(signal))
    .map((r) => r.server.close({ graceMs: r.graceMs }).catch(() => {}));
  void Promise.all(closing).then(() => raiseAgain(signal));
}

function raiseAgain(signal: NodeJS.Signals): void {
  for (const [s, handler] of installed) process.off(s, handler);
  installed.clear();
  if (process.listenerCount(signal) > 0) return; // the application handles it
  process.kill(process.pid, signal);
}

/**
 * Closes `server` gracefully when the process receives one of `signals`.
 * Returns the function that undoes it (called when the server closes).
 */
export function closeOnSignals(server: Closable, signals: readonly NodeJS.Signals[], graceMs: number): () => void {
  if (signals.length === 0) return () => {};
  const registration: Registration = { server, graceMs, signals };
  registrations.add(registration);
  syncHandlers();
  return () => {
    if (registrations.delete(registration) && !shuttingDown) syncHandlers();
  };
}
