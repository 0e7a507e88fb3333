// A real Linux kernel with bonding and 802.1Q for tests: user-mode Linux (Debian package
// user-mode-linux, kernel 6.1) booted on the host's root filesystem read-only (hostfs), unprivileged
// and without KVM. Recipe and pitfalls: shared notes test-environment.md.
//
//   const r = await runUml({ script: 'ip -j link > "$OUT/links.json"' });
//   r.files.get('links.json')   // everything the guest wrote to $OUT
//
// The guest runs `script` with `sh` as init, with $OUT a host folder mounted through hostfs (UML's
// exit status does not carry the guest's, so the script's status and output are written there).
// Every temporary file lives in one folder that is removed before runUml returns.
//
// One host quirk is handled here: on CPUs whose XSAVE area is larger than UML 6.1 expects
// (AVX-512/AMX hosts, such as the CI machines), the host kernel refuses UML's PTRACE_SETREGSET
// (EFAULT: "ptrace set fp regs failed") and the guest's init dies at once. A small LD_PRELOAD shim,
// compiled here with gcc, widens those calls to the host's full XSAVE size, keeping the host's
// values for the parts UML does not know. Guest processes are told (GLIBC_TUNABLES) not to use
// AVX-512, whose registers live in those parts and would not follow a thread switch in the guest.
import { execa } from 'execa';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync, symlinkSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const UML_BINARY = '/usr/bin/linux.uml';
export const UML_MODULES = '/usr/lib/uml/modules';

export interface UmlOptions {
  /** Shell script run as root in the guest; $OUT is the output folder, $MODROOT the module tree. */
  script: string;
  /** Modules to load first (modprobe syntax). Default: bonding (max_bonds=0, or it makes bond0 itself), 8021q, macvlan, veth. */
  modules?: string[];
  /** Whole boot-to-poweroff limit. */
  timeoutMs?: number;
  memMb?: number;
  /**
   * The guest console (UML's stdout) as it arrives, carriage returns removed: what the guest writes
   * to /dev/console shows up here live (the script's own output still goes to `log`).
   */
  onConsole?: (text: string) => void;
  /** Aborting stops the guest (SIGTERM, SIGKILL 2 s later); runUml then returns what there was. */
  signal?: AbortSignal;
}

export interface UmlResult {
  /** The script's exit status, or undefined if the guest never wrote it (crash, timeout). */
  exitCode: number | undefined;
  /** The script's stdout and stderr. */
  log: string;
  /** Files the guest wrote to $OUT (besides log and rc), by name; files in subfolders as `dir/name`. */
  files: Map<string, string>;
  /** UML's own console output: kernel messages, panics. */
  console: string;
  elapsedMs: number;
  /** Stopped through `signal`. */
  cancelled?: boolean;
}

/** Why UML cannot run here, or undefined when it can. Tests call this and FAIL (not skip) on a reason. */
export function umlUnavailable(): string | undefined {
  if (!existsSync(UML_BINARY)) return `${UML_BINARY} is missing: install the Debian package user-mode-linux (scripts/setup-system.sh)`;
  if (!existsSync(UML_MODULES) || readdirSync(UML_MODULES).length === 0) return `${UML_MODULES} has no kernel modules (package user-mode-linux)`;
  if (!existsSync('/usr/bin/gcc')) return '/usr/bin/gcc is missing: needed to build the ptrace shim for UML on this CPU';
  if (!existsSync('/usr/sbin/modprobe') && !existsSync('/sbin/modprobe')) return 'modprobe is missing (package kmod)';
  if (!existsSync('/usr/bin/busybox')) return 'busybox is missing (the guest powers off with it)';
  return undefined;
}

const SHIM_C = String.raw`
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

static long (*real_ptrace)(int, pid_t, void *, void *);
static unsigned char full[65536];

long ptrace(enum __ptrace_request req, ...) {
  va_list ap;
  va_start(ap, req);
  pid_t pid = va_arg(ap, pid_t);
  void *addr = va_arg(ap, void *);
  void *data = va_arg(ap, void *);
  va_end(ap);
  if (!real_ptrace) real_ptrace = (long (*)(int, pid_t, void *, void *))dlsym(RTLD_NEXT, "ptrace");
  if ((req == PTRACE_GETREGSET || req == PTRACE_SETREGSET) && (long)addr == NT_X86_XSTATE) {
    struct iovec *uiov = data;
    struct iovec fiov = { full, sizeof full };
    long r = real_ptrace(PTRACE_GETREGSET, pid, addr, &fiov);
    if (r != 0) return r;
    size_t n = uiov->iov_len < fiov.iov_len ? uiov->iov_len : fiov.iov_len;
    if (req == PTRACE_GETREGSET) {
      memcpy(uiov->iov_base, full, n);
      uiov->iov_len = n;
      return 0;
    }
    memcpy(full, uiov->iov_base, n);
    return real_ptrace(PTRACE_SETREGSET, pid, addr, &fiov);
  }
  return real_ptrace(req, pid, addr, data);
}
`;

const DEFAULT_MODULES = ['bonding max_bonds=0', '8021q', 'macvlan', 'veth'];
const GUEST_GLIBC_TUNABLES = 'glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD';

export async function runUml(opts: UmlOptions): Promise<UmlResult> {
  const missing = umlUnavailable();
  if (missing !== undefined) throw new Error(`user-mode Linux is not usable here: ${missing}`);
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'rs-uml-'));
  try {
    const out = join(dir, 'out');
    mkdirSync(out);
    const version = readdirSync(UML_MODULES).sort().at(-1)!;
    const modroot = join(dir, 'modroot');
    mkdirSync(join(modroot, 'lib', 'modules'), { recursive: true });
    symlinkSync(join(UML_MODULES, version), join(modroot, 'lib', 'modules', version));

    const shimC = join(dir, 'xstate-shim.c');
    const shim = join(dir, 'xstate-shim.so');
    writeFileSync(shimC, SHIM_C);
    const cc = await execa('gcc', ['-O2', '-shared', '-fPIC', '-o', shim, shimC, '-ldl'], { reject: false });
    if (cc.exitCode !== 0) throw new Error(`building the UML ptrace shim failed: ${cc.stderr}`);

    writeFileSync(join(dir, 'script.sh'), opts.script);
    const init = join(dir, 'init.sh');
    const modprobe = (opts.modules ?? DEFAULT_MODULES).map((m) => `modprobe -d "$MODROOT" ${m} || echo "modprobe ${m} failed"`).join('\n');
    writeFileSync(
      init,
      [
        '#!/bin/sh',
        'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        'mount -t proc proc /proc',
        'mount -t sysfs sys /sys',
        'mount -t tmpfs tmpfs /run',
        'mkdir -p /run/netns /run/tmp',
        `mount -t hostfs hostfs /mnt -o ${out}`,
        'export OUT=/mnt TMPDIR=/run/tmp HOME=/run/tmp',
        `export MODROOT=${modroot}`,
        `export GLIBC_TUNABLES=${GUEST_GLIBC_TUNABLES}`,
        'exec >/mnt/log 2>&1',
        modprobe,
        `sh ${join(dir, 'script.sh')}`,
        'echo $? > /mnt/rc',
        'sync',
        'busybox poweroff -f',
        '',
      ].join('\n'),
    );
    chmodSync(init, 0o755);

    const running = execa(
      UML_BINARY,
      [
        `mem=${opts.memMb ?? 512}M`,
        'root=/dev/root',
        'rootfstype=hostfs',
        'rootflags=/',
        'ro',
        `init=${init}`,
        'con0=fd:0,fd:1',
        'con=null',
        'quiet',
      ],
      {
        reject: false,
        stdin: 'ignore',
        all: true,
        timeout: opts.timeoutMs ?? 60_000,
        // UML panics without a writable HOME; TMPDIR holds its memory file.
        env: { HOME: dir, TMPDIR: dir, LD_PRELOAD: shim },
        extendEnv: false,
        ...(opts.signal === undefined ? {} : { cancelSignal: opts.signal, forceKillAfterDelay: 2000 }),
      },
    );
    const onConsole = opts.onConsole;
    if (onConsole !== undefined) running.stdout?.on('data', (chunk: Buffer) => onConsole(chunk.toString('utf8').replace(/\r/g, '')));
    const uml = await running;
    const read = (name: string) => (existsSync(join(out, name)) ? readFileSync(join(out, name), 'utf8') : undefined);
    const rc = read('rc');
    const files = readTree(out, '');
    files.delete('log');
    files.delete('rc');
    return {
      exitCode: rc === undefined ? undefined : Number(rc.trim()),
      log: read('log') ?? '',
      files,
      console: `${typeof uml.all === 'string' ? uml.all : ''}${uml.timedOut ? '\n[runUml: timed out]' : ''}${uml.isCanceled ? '\n[runUml: cancelled]' : ''}`,
      elapsedMs: Date.now() - started,
      ...(uml.isCanceled ? { cancelled: true } : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every file under `dir`, by path relative to it (`a/b.json`). */
function readTree(dir: string, prefix: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = `${prefix}${entry.name}`;
    if (entry.isDirectory()) for (const [k, v] of readTree(join(dir, entry.name), `${rel}/`)) files.set(k, v);
    else if (entry.isFile()) files.set(rel, readFileSync(join(dir, entry.name), 'utf8'));
  }
  return files;
}
