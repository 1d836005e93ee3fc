/**
 * The pages of a file that processes map MAP_SHARED. Linux keeps one copy of a
 * file's pages (the page cache) and every MAP_SHARED mapping sees it, including
 * mappings made by unrelated processes or after execve (LTP's checkpoints and
 * result page live in such a file). Here the first MAP_SHARED mapping's memory
 * becomes the file's pages for the range it covers; later mappings inside that
 * range attach the same memory. The file's data proper catches up at msync,
 * munmap and exit (writeback.ts); a change made meanwhile through write(2) or
 * truncate starts fresh pages for later mappings rather than showing stale ones.
 */
import type { FileDescription } from "./file";
import type { AddressSpace, SharedMemory } from "./memory";
import { VfsFile } from "./vfs/file";

interface CachedPages { mem: SharedMemory; offset: number; len: number; stamp: string }

const cache = new WeakMap<object, CachedPages>();
// The memory lives as long as its file does, like the page cache; mappings hold their own references.
const release = new FinalizationRegistry<SharedMemory>((mem) => mem.release());

const inodeOf = (file: FileDescription): object | undefined => (file instanceof VfsFile ? file.path.d.inode : undefined);

/** What the file's data looked like when its pages were last known to match it. */
function stamp(file: FileDescription): string {
  const st = file.stat();
  return `${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

/** The file's pages covering [offset, offset+len), if they are still current: the memory and where the range starts in it. */
export function cachedPages(file: FileDescription, offset: number, len: number): { mem: SharedMemory; delta: number } | undefined {
  const inode = inodeOf(file);
  const c = inode && cache.get(inode);
  if (!c || offset < c.offset || offset + len > c.offset + c.len || c.stamp !== stamp(file)) return undefined;
  return { mem: c.mem, delta: offset - c.offset };
}

/** The memory mm mapped at `start` (for file bytes [offset, offset+len)) is now the file's pages. */
export function rememberPages(file: FileDescription, mm: AddressSpace, start: number, offset: number, len: number): void {
  const inode = inodeOf(file);
  if (!inode) return;
  const old = cache.get(inode);
  if (old) {
    release.unregister(old);
    old.mem.release();
  }
  const entry = { mem: mm.hold(start), offset, len, stamp: stamp(file) };
  cache.set(inode, entry);
  release.register(inode, entry.mem, entry);
}

/** The file's data was just written from its pages (writeback): they still match it. */
export function pagesWrittenBack(file: FileDescription): void {
  const inode = inodeOf(file);
  const c = inode && cache.get(inode);
  if (c) c.stamp = stamp(file);
}
