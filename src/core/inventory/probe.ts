/**
 * The inventory probe: one POSIX sh script, run in one round trip, that prints
 * marked sections. Every tool it calls may be missing: each section is empty
 * then, never an error. Pure: it only builds argv.
 *
 * Where it reads what the health probe reads, it is the health probe's own section
 * (src/core/health/probe.ts: the prelude, the nvidia and EDAC sections) and the same
 * parser (src/core/health/parse.ts: meminfo, df rows, nvidia, EDAC): one query, one
 * parser for each.
 */
import {EDAC_SECTION, NVIDIA_SECTION, PROBE_PRELUDE, SECTION_MARK} from '../health/probe.js'

export {SECTION_MARK}

const SCRIPT = PROBE_PRELUDE + String.raw`T=""; have timeout && T="timeout 15"
now() { t=$(date +%s%N 2>/dev/null); case "$t" in *N*|'') date +%s 2>/dev/null;; *) echo "$t";; esac; }
s time_start; now
s hostname; hostname 2>/dev/null || uname -n 2>/dev/null || cat /proc/sys/kernel/hostname 2>/dev/null
s os_release; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null
s kernel; uname -r 2>/dev/null
s arch; uname -m 2>/dev/null
s cpuinfo; grep -E '^(processor|model name|physical id|core id|cpu cores|siblings|Model|Hardware|CPU part)[[:space:]]*:' /proc/cpuinfo 2>/dev/null
s lscpu; have lscpu && lscpu 2>/dev/null
s nproc; nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null
s meminfo; grep -E '^(MemTotal|MemAvailable|MemFree|Buffers|Cached|SwapTotal|SwapFree):' /proc/meminfo 2>/dev/null
s df; df -P -k -T 2>/dev/null || df -P -k 2>/dev/null
s data_disk; for d in /var/lib/containers /var/lib/containerd /var/lib /; do if [ -d "$d" ]; then df -P -k "$d" 2>/dev/null | tail -n 1; break; fi; done
${NVIDIA_SECTION}
${EDAC_SECTION}
s lspci; have lspci && lspci -mm -nn 2>/dev/null | grep -E '\[03[0-9a-f]{2}\]'
s pci_sysfs; for d in /sys/bus/pci/devices/*; do [ -r "$d/class" ] || continue; c=$(cat "$d/class"); case "$c" in 0x03*) echo "$(basename "$d") $c $(cat "$d/vendor" 2>/dev/null) $(cat "$d/device" 2>/dev/null)";; esac; done
s ip_addr; have ip && ip -o addr show 2>/dev/null
s net_sysfs; for d in /sys/class/net/*; do [ -e "$d" ] || continue; echo "$(basename "$d") $(cat "$d/address" 2>/dev/null) $(cat "$d/operstate" 2>/dev/null)"; done
s podman; if have podman; then echo "version=$(podman --version 2>/dev/null)"; out=$($T podman info --format '{{.Host.OCIRuntime.Name}} {{.Store.GraphDriverName}} {{.Host.Security.Rootless}} {{.Store.GraphRoot}}' 2>&1); echo "rc=$?"; printf '%s\n' "$out" | tail -n 3; else echo missing; fi
s containerd; if have containerd; then echo "version=$(containerd --version 2>/dev/null)"; else echo "version="; fi; if have ctr; then a="$CONTAINERD_ADDRESS"; [ -n "$a" ] || a=/run/containerd/containerd.sock; if [ -S "$a" ]; then out=$($T ctr --connect-timeout 5s version 2>&1); echo "rc=$?"; printf '%s\n' "$out" | tail -n 8; else echo "rc=1"; echo "no containerd socket at $a (is the containerd daemon running?)"; fi; else echo "ctr=missing"; fi
s cgroup; if [ -f /sys/fs/cgroup/cgroup.controllers ]; then echo 2; elif [ -d /sys/fs/cgroup ]; then echo 1; fi
s loadavg; cat /proc/loadavg 2>/dev/null
s uptime; cat /proc/uptime 2>/dev/null
s time_end; now
s end
`

/** argv that runs the probe through the node's POSIX shell. */
export function inventoryProbeArgv(): string[] {
  return ['sh', '-c', SCRIPT]
}
