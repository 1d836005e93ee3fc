"""Drive a program on a fresh pty like a person at a terminal: wait for what
it prints, then type. Prints everything the terminal showed, and the status.

    python3 pty_session.py PROGRAM ARGS...   (steps: see STEPS)
"""
import os
import pty
import select
import sys
import time

# (wait for this text, then type this); each wait gives up after 30 s.
STEPS = [
    (b"# ", b"echo hello from $0\r"),
    (b"# ", b"echo a b c | busybox wc -w\r"),
    # The quotes keep the typed line (which the terminal echoes) from matching the output waited for.
    (b"# ", b"busybox sh -c 'echo sleeping\" \"now; exec busybox sleep 30'\r"),
    (b"sleeping now", b"\x03"),
    (b"# ", b"echo after ctrl-c $?\r"),
    (b"# ", b"exit 3\r"),
]

pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])

shown = b""


def wait_for(text):
    """Read until `text` appears after what earlier waits consumed."""
    global shown
    start = len(shown)
    deadline = time.time() + 30
    while text not in shown[start:] and time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return
            if not data:
                return
            shown += data


for want, typed in STEPS:
    wait_for(want)
    os.write(fd, typed)
wait_for(b"\0")  # until the program ends (EOF)
_, status = os.waitpid(pid, 0)
# Line editing asks the terminal where the cursor is (ESC [6n) only when no typing is pending: a matter of timing.
sys.stdout.write(shown.decode(errors="replace").replace("\r", "").replace("\x1b[6n", ""))
print("status", os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status))
