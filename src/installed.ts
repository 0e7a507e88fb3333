// Where the installed package keeps the files the bundled CLI loads from disk (the socket addon,
// the description loader's worker script). The package build (scripts/build-deb.sh) sets
// RACKSTRAP_LIB_DIR in the bundle; run from a checkout (dist/), it is undefined and each module
// finds its file in the project folder as before.
declare const RACKSTRAP_LIB_DIR: string | undefined;

export const INSTALLED_LIB_DIR: string | undefined = typeof RACKSTRAP_LIB_DIR === 'string' ? RACKSTRAP_LIB_DIR : undefined;
