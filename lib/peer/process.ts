// The process behind a Unix-socket peer, pinned by a pidfd (SO_PEERPIDFD, Linux >= 6.5), and the
// kernel's overflow uid. Mirrors what dbus-broker and systemd (src/basic/pidref.c,
// cg_path_get_unit in src/basic/cgroup-util.c) do with peer pidfds: read /proc, then check the
// pidfd still names that pid, so a reused pid is refused rather than believed.
import fs from 'fs';

// The kernel's overflow uid (/proc/sys/kernel/overflowuid, 65534 unless changed), read once: it
// only changes by sysctl, and a value read at start-up is what every check should compare with.
let overflow: number | undefined;

/**
 * The uid an unmapped uid of another user namespace shows as (kernel.overflowuid, normally 65534):
 * a peer with this uid may be anyone. Read once and cached; 65534 when the sysctl is unreadable.
 */
export function overflowUid(): number {
  if (overflow === undefined) {
    let text = '';
    try {
      text = fs.readFileSync('/proc/sys/kernel/overflowuid', 'ascii').trim();
    } catch {
      // No procfs (or no such sysctl): the kernel's default.
    }
    overflow = /^\d{1,10}$/.test(text) && Number(text) <= 0xffffffff ? Number(text) : 65534;
  }
  return overflow;
}
