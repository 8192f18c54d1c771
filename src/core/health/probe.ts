/**
 * The health probe: one constant POSIX sh script with positional arguments, run in
 * the same round trip as a pass's observation (every 30-60 s, not every pass) or on
 * its own (`node doctor`). It prints marked sections (SECTION_MARK; the inventory's probe shares its prelude and
 * its nvidia and EDAC sections);
 * every section is optional and every external tool runs under `timeout`, so a host
 * without smartctl, nvidia-smi, dmesg rights or even `timeout` answers with empty
 * sections, never an error. Pure: it only builds argv (the parser is parse.ts).
 *
 * Arguments: $1 the kernel log to read instead of `dmesg` ('' for dmesg, unless the
 * node's environment names one in CLUSTERCTL_KERNEL_LOG: the testbed feeds a file of its
 * own that way, never the machine's /dev/kmsg), $2 the SMART cache file
 * ('' for none), $3 the runtime (podman | containerd | ''), then the paths whose
 * filesystems are watched (/, the runtime's store, volume roots).
 *
 * Notes: files under /proc/sys and /sys are read with `cat`: dash's `read` builtin
 * reads them a byte at a time and gets only the first byte. `ctr version` hangs without
 * a daemon: it runs only when its socket exists, with a connect timeout, under
 * `timeout`. SMART is slow and changes slowly: its output is cached on the node for
 * SMART_CACHE_MINUTES.
 */
/** The line that starts each section of a probe's output (this probe's and the inventory's). */
export const SECTION_MARK = '@@@clusterctl:'

/**
 * The start of every probe script (this one and the inventory's): C locale, `have CMD`,
 * `t SECONDS CMD...` (under `timeout -s KILL` when there is one) and `s NAME` (a section).
 */
export const PROBE_PRELUDE = String.raw`
export LC_ALL=C
have() { command -v "$1" >/dev/null 2>&1; }
t() { if have timeout; then timeout -s KILL "$@"; else shift; "$@"; fi; }
s() { printf '\n${SECTION_MARK}%s\n' "$1"; }
`

/**
 * Sections both probes print (the inventory reuses them: one query, one parser each,
 * parse.ts). nvidia: one nvidia-smi query for the inventory's columns and the health
 * counters, falling back to the inventory's columns alone on a driver that does not know
 * a health field (nvidia-smi refuses the whole query then). edac: one line per memory
 * controller, `mcN CE UE`.
 */
export const NVIDIA_SECTION = String.raw`s nvidia; have nvidia-smi && { t 10 nvidia-smi --query-gpu=index,name,memory.total,pci.bus_id,ecc.errors.uncorrected.volatile.total,retired_pages.pending,remapped_rows.pending --format=csv,noheader,nounits 2>/dev/null || t 10 nvidia-smi --query-gpu=index,name,memory.total,pci.bus_id --format=csv,noheader,nounits 2>/dev/null; }`
export const EDAC_SECTION = String.raw`s edac; for d in /sys/devices/system/edac/mc/mc*; do [ -d "$d" ] && echo "$(basename "$d") $(cat "$d/ce_count" 2>/dev/null) $(cat "$d/ue_count" 2>/dev/null)"; done`

/** How long the node keeps smartctl's answer before asking the disks again. */
export const SMART_CACHE_MINUTES = 360

/** Kernel log lines worth a look (case-insensitive extended regex, matched on the node). */
export const KERNEL_PATTERN = 'out of memory|oom-kill|killed process|remounting filesystem read-only|ext4-fs error|ext4-fs.*aborting journal|xfs.*(shutdown|shut down|corruption)|i/o error|blk_update_request|hung_task|blocked for more than|nvrm: xid|edac|machine check|hardware error|mce:'

const SCRIPT = PROBE_PRELUDE + String.raw`KLOG=$1; SMART=$2; RT=$3; shift 3
[ -n "$KLOG" ] || KLOG=$CLUSTERCTL_KERNEL_LOG
s uptime; cat /proc/uptime 2>/dev/null
s meminfo; grep -E '^(MemTotal|MemAvailable):' /proc/meminfo 2>/dev/null
for r in memory io cpu; do s "psi_$r"; cat "/proc/pressure/$r" 2>/dev/null; done
s vmstat; grep -E '^oom_kill ' /proc/vmstat 2>/dev/null
s df; for p in "$@"; do [ -e "$p" ] && echo "$p $(t 5 df -P -k "$p" 2>/dev/null | tail -n 1)"; done
s dfi; for p in "$@"; do [ -e "$p" ] && echo "$p $(t 5 df -P -i "$p" 2>/dev/null | tail -n 1)"; done
s mounts; awk -v paths="$*" 'BEGIN { n = split(paths, p, " ") } { for (i = 1; i <= n; i++) if (p[i] == $2 || $2 == "/" || index(p[i], $2 "/") == 1) { print $2, $3, $4; break } }' /proc/mounts 2>/dev/null
s kernel; if [ -n "$KLOG" ]; then tail -n 5000 "$KLOG" 2>/dev/null; else t 5 dmesg 2>/dev/null | tail -n 5000; fi | grep -iE 'KERNEL_PATTERN' | tail -n 100
${EDAC_SECTION}
s hwmon; for f in /sys/class/hwmon/hwmon*/temp*_input; do [ -r "$f" ] || continue; d=$(dirname "$f"); b=$(basename "$f" _input); echo "$(cat "$d/name" 2>/dev/null | tr ' ' _)/$b $(cat "$f" 2>/dev/null) $(cat "$d/$b"_crit 2>/dev/null)"; done
s thermal; for d in /sys/class/thermal/thermal_zone*; do [ -r "$d/temp" ] && echo "$(cat "$d/type" 2>/dev/null | tr ' ' _) $(cat "$d/temp" 2>/dev/null)"; done
s mdstat; cat /proc/mdstat 2>/dev/null
s smart; if [ -n "$SMART" ] && [ -n "$(find "$SMART" -mmin -SMART_MINUTES 2>/dev/null)" ]; then cat "$SMART"; elif have smartctl; then out=$(for dev in $(t 10 smartctl --scan 2>/dev/null | cut -d' ' -f1); do echo "== $dev"; t 10 smartctl -H -A "$dev" 2>/dev/null; done); printf '%s\n' "$out"; [ -n "$SMART" ] && printf '%s\n' "$out" > "$SMART.$$" 2>/dev/null && mv "$SMART.$$" "$SMART" 2>/dev/null; fi
${NVIDIA_SECTION}
s clock; if have timedatectl; then echo "synchronized=$(t 3 timedatectl show -p NTPSynchronized --value 2>/dev/null)"; fi; if have chronyc; then t 3 chronyc -n tracking 2>/dev/null | grep -E '^(System time|Leap status)'; fi
s runtime; case "$RT" in podman) if have podman; then t 8 podman version --format '{{.Client.Version}}' >/dev/null 2>&1; echo "rc=$?"; else echo "rc=missing"; fi;; containerd) a=$CONTAINERD_ADDRESS; [ -n "$a" ] || a=/run/containerd/containerd.sock; if [ -S "$a" ] && have ctr; then t 8 ctr --connect-timeout 5s version >/dev/null 2>&1; echo "rc=$?"; else echo "rc=no-socket"; fi;; esac
s limits; echo "conntrack $(cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null) $(cat /proc/sys/net/netfilter/nf_conntrack_max 2>/dev/null)"; echo "pids $(ls -d /proc/[0-9]* 2>/dev/null | wc -l) $(cat /proc/sys/kernel/pid_max 2>/dev/null)"; echo "files $(cut -f1,3 /proc/sys/fs/file-nr 2>/dev/null)"
s end
`.replace('KERNEL_PATTERN', KERNEL_PATTERN).replace('SMART_MINUTES', String(SMART_CACHE_MINUTES))

export interface ProbeArgs {
  /** Read this file as the kernel log instead of `dmesg` (the testbed's feed). */
  kernelLog?: string | null
  /** Where the node caches smartctl's answer; null: no cache (and no SMART without one). */
  smartCache?: string | null
  runtime?: 'podman' | 'containerd' | null
  /** Paths whose filesystems are watched; `/` always is. */
  paths: readonly string[]
}

/** Where a node caches its SMART answer by default. */
export const DEFAULT_SMART_CACHE = '/var/tmp/clusterctl-smart.cache'

/** The probe as a script and its positional arguments (for `sh -c SCRIPT NAME ARGS...`). */
export function healthProbeScript(args: ProbeArgs): {script: string; args: string[]} {
  const paths = [...new Set(['/', ...args.paths.filter((p) => p.startsWith('/') && !/\s/.test(p))])]
  return {script: SCRIPT, args: [args.kernelLog ?? '', args.smartCache === undefined ? DEFAULT_SMART_CACHE : args.smartCache ?? '', args.runtime ?? '', ...paths]}
}

/** argv that runs the probe alone (`node doctor`). */
export function healthProbeArgv(args: ProbeArgs): string[] {
  const {script, args: rest} = healthProbeScript(args)
  return ['sh', '-c', script, 'clusterctl-health', ...rest]
}
