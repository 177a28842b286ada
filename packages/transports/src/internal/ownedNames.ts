import { lstatSync, unlinkSync } from 'node:fs';

/**
 * Removes `path` only if it is still the file this process created (same
 * inode): a name someone else has since put there is never touched.
 */
export function unlinkIfOurs(path: string, ino: number): void {
  try {
    if (lstatSync(path).ino === ino) unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * Runs `remove` once: when the returned function is called (a normal close),
 * or when the process ends through process.exit(), which skips every close().
 * Named OS objects must not outlive a server that exits that way.
 */
export function removeOnExit(remove: () => void): () => void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    process.off('exit', once);
    remove();
  };
  process.once('exit', once);
  return once;
}
