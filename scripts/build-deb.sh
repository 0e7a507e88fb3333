#!/usr/bin/env bash
# Builds the Debian package rackstrap_<version>_<arch>.deb from this checkout:
#   /usr/bin/rackstrap            the CLI: one bundled file inside a Node single executable
#                                 (Node comes along; the filer needs neither Node nor a compiler)
#   /usr/lib/rackstrap/           the prebuilt socket addon and the description loader's worker
#   /lib/systemd/system/          rackstrap-agent.service, rackstrap-serve.service
#   /usr/share/man/man1/          rackstrap(1) and one page per command
#   /usr/share/bash-completion/   completion
#   /etc/rackstrap/agent.yaml.example, /usr/share/doc/rackstrap/
# Usage: bash scripts/build-deb.sh [--no-compile] [OUT_DIR]   (default dist/pkg; prints the .deb's path)
#   --no-compile   dist/ is already compiled from this checkout (npm test's pretest did it)
# Needs: npm ci done (esbuild, postject, the addon built), dpkg-dev. Downloads nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
compile=1
if [ "${1:-}" = --no-compile ]; then compile=0; shift; fi
out=$(mkdir -p "${1:-dist/pkg}" && cd "${1:-dist/pkg}" && pwd)
version=$(node -p "require('./package.json').version")
arch=$(dpkg --print-architecture)
node_bin=$(command -v node)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
lib=/usr/lib/rackstrap

say() { echo "build-deb: $*" >&2; }

# Node's single executables need a node binary with the SEA fuse (official and NodeSource builds).
grep -q NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2 "$node_bin" || { say "$node_bin has no single-executable support"; exit 1; }
[ -f build/Release/rackstrap_net.node ] || { say "the socket addon is not built (npm ci, or npx node-gyp rebuild)"; exit 1; }

if [ $compile = 1 ]; then say "compiling (tsc) for the manual pages"; npm run --silent build; fi

say "bundling the CLI"
defines=(--define:RACKSTRAP_VERSION="\"$version\"" --define:RACKSTRAP_LIB_DIR="\"$lib\"")
esbuild=(npx --no-install esbuild --bundle --platform=node --target=node20 --format=cjs --log-level=warning
  --log-override:empty-import-meta=silent --legal-comments=none "${defines[@]}"
  # dbus-next requires x11 only to find a session bus through an X display; the agent talks to
  # the system bus, so it stays out (a require of it would fail, and never happens).
  --external:x11)
"${esbuild[@]}" src/cli/bin.ts --outfile="$work/rackstrap.cjs"
mkdir -p "$root$lib"
"${esbuild[@]}" src/dhcp-server/config-worker.ts --outfile="$root$lib/config-worker.cjs"
install -m 0644 build/Release/rackstrap_net.node "$root$lib/rackstrap_net.node"

say "making the single executable (Node $(node --version))"
cat > "$work/sea-config.json" <<JSON
{ "main": "$work/rackstrap.cjs", "output": "$work/sea.blob", "disableExperimentalSEAWarning": true, "useCodeCache": true }
JSON
node --experimental-sea-config "$work/sea-config.json" >/dev/null
mkdir -p "$root/usr/bin"
install -m 0755 "$node_bin" "$root/usr/bin/rackstrap"
npx --no-install postject "$root/usr/bin/rackstrap" NODE_SEA_BLOB "$work/sea.blob" \
  --sentinel-fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2 >/dev/null 2>&1
"$root/usr/bin/rackstrap" --version >/dev/null

say "units, manual, completion, docs"
install -D -m 0644 contrib/systemd/rackstrap-agent.service "$root/lib/systemd/system/rackstrap-agent.service"
install -D -m 0644 contrib/systemd/rackstrap-serve.service "$root/lib/systemd/system/rackstrap-serve.service"
install -D -m 0644 contrib/agent.yaml.example "$root/etc/rackstrap/agent.yaml.example"
node dist/src/packaging/write-manual.js "$root" >/dev/null
gzip -9n "$root"/usr/share/man/man1/*.1
doc=$root/usr/share/doc/rackstrap
install -D -m 0644 README.md "$doc/README.md"
for f in docs/*.md; do [ "$f" = docs/requirements.md ] && continue; install -D -m 0644 "$f" "$doc/$f"; done
install -m 0644 examples/cluster.yaml "$doc/examples/cluster.yaml" 2>/dev/null || install -D -m 0644 examples/cluster.yaml "$doc/examples/cluster.yaml"
cat > "$doc/copyright" <<TXT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: rackstrap

Files: *
License: Apache-2.0
 On Debian systems the full text is in /usr/share/common-licenses/Apache-2.0.

Files: usr/bin/rackstrap
Comment: a Node.js $(node --version) single executable: Node's own licence is in its
 LICENSE file (MIT and the licences of the libraries it bundles); the bundled npm
 packages (commander, execa, yaml, zod and their dependencies) are MIT or ISC.
TXT

say "control"
# Shared-library dependencies of the executable and the addon, computed by dpkg-shlibdeps.
mkdir -p "$work/debian"
printf 'Source: rackstrap\n\nPackage: rackstrap\nArchitecture: any\n' > "$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O --ignore-missing-info "root/usr/bin/rackstrap" "root$lib/rackstrap_net.node" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
mkdir -p "$root/DEBIAN"
cat > "$root/DEBIAN/control" <<CTL
Package: rackstrap
Version: $version
Architecture: $arch
Maintainer: rackstrap developers <rackstrap@localhost>
Section: net
Priority: optional
Installed-Size: $size
Depends: ${shlibs}, iproute2, iptables, procps
Suggests: kea-dhcp4-server | isc-dhcp-server | dnsmasq-base
Description: zero-touch network bootstrap for clustered storage servers
 rackstrap brings a storage cluster's network up with no manual step on
 the filers: the site's DHCP server hands each filer its topology (bonds,
 VLANs, aliases, routes) and its addresses; the agent builds them with
 iproute2 and caches them for a boot when no DHCP server answers.
 .
 The package carries its own Node.js runtime inside /usr/bin/rackstrap.
CTL
# The example is not a conffile on purpose: it is replaced on upgrade and removed with the
# package; the admin's own agent.yaml (not shipped) is never touched.
cat > "$root/DEBIAN/postinst" <<'SH'
#!/bin/sh
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
exit 0
SH
# No postrm, on purpose: a package with one stays behind as "config-files" after `dpkg -r`.
# The agent's cache and the server's lease log in /var/lib/rackstrap are the admin's data and
# stay until removed by hand. On removal (not upgrade) prerm stops and disables both units, so no
# enablement links are left either.
cat > "$root/DEBIAN/prerm" <<'SH'
#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
  systemctl disable --now rackstrap-agent.service rackstrap-serve.service >/dev/null 2>&1 || true
fi
exit 0
SH
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm"

deb=$out/rackstrap_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zgzip -z1 --build "$root" "$deb" >/dev/null
echo "$deb"
