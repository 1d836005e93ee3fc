/** MAP_SHARED file mappings going back to their files (msync, munmap, exit, execve). */
import type { FileDescription } from "./file";
import type { Task } from "./task";

/**
 * Write the pages of MAP_SHARED file mappings in [addr, addr+len) back to their
 * files, never past the file's end (pages beyond it are not part of the file).
 */
export function writeBack(t: Task, addr: number, len: number): void {
  const end = addr + len;
  for (const v of t.mm.mappings()) {
    if (!v.backing || v.end <= addr || v.start >= end) continue;
    const file = v.backing.file as FileDescription;
    const from = Math.max(v.start, addr), to = Math.min(v.end, end);
    const fileOffset = v.backing.offset + (from - v.start);
    const size = file.stat().size;
    const n = Math.min(to - from, size - fileOffset);
    if (n > 0) file.pwrite(t, t.mm.rawRead(from, n), fileOffset);
  }
}

