#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for rackstrap: system packages (needs root), then npm
# dependencies, the TypeScript build and the native socket addon (npm ci runs `prepare`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-system.sh
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
npm run build
