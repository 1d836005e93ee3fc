/** MAP_SHARED file mappings going back to their files (msync, munmap, exit, execve). */
import { refFile, unrefFile, type FileDescription } from "./file";
import type { AddressSpace } from "./memory";
import { pagesWrittenBack } from "./pagecache";
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
    if (n > 0) {
      file.pwrite(t, t.mm.rawRead(from, n), fileOffset);
      pagesWrittenBack(file);
    }
  }
}


/** The files behind an address space's MAP_SHARED mappings, each once. */
function backingFiles(mm: AddressSpace): Set<FileDescription> {
  return new Set(mm.mappings().flatMap((v) => (v.backing ? [v.backing.file as FileDescription] : [])));
}

/** fork: the child's copy of the mappings holds their files too. */
export function holdMappedFiles(mm: AddressSpace): void {
  for (const f of backingFiles(mm)) refFile(f);
}

/** A process leaves its address space (exit, execve): pages go back, and the last user lets go of the files. */
export function leaveAddressSpace(t: Task): void {
  writeBack(t, 0, t.mm.layout.windowSize);
  if (--t.mm.users === 0) for (const f of backingFiles(t.mm)) unrefFile(f);
}
