# The project's one native addon: per-interface UDP sockets (native/rackstrap_net.c).
# npm runs `node-gyp rebuild` on `npm install`/`npm ci` because this file exists; headers come
# from the machine's npm config (nodedir), so nothing is downloaded.
{
  "targets": [
    {
      "target_name": "rackstrap_net",
      "sources": ["native/rackstrap_net.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_c": ["-std=gnu11"]
    }
  ]
}
