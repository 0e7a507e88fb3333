// rackstrap_net: the few socket calls Node cannot make.
//
// Node's dgram cannot bind a socket to one interface (SO_BINDTODEVICE), and a DHCP peer must: a
// client sends DISCOVER from an interface that has no address yet, and a server must answer on
// the interface the request came in on. This addon only creates and configures file descriptors;
// Node's dgram wraps the fd (`socket.bind({ fd })`) and does all I/O on libuv.
//
// Every function takes an optional network-namespace path. The socket is created inside that
// namespace (a socket keeps the namespace it was created in for its whole life), and the calling
// thread always returns to its own namespace before the function returns, so one process can hold
// sockets in several namespaces (tests, tools).
//
// Plain C against node_api.h; every syscall's error is reported as a JS Error carrying `code`
// (the errno name), `errno`, `syscall` and `ifname`; fds are closed on every error path.

#define _GNU_SOURCE
#include <node_api.h>

#include <uv.h>

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

// A failed syscall: what was called and the errno it left. err == 0 means no failure.
typedef struct {
  int err;
  const char *syscall;
} failure;

static bool fail(failure *f, const char *syscall) {
  f->err = errno;
  f->syscall = syscall;
  return false;
}

// ---- JS errors --------------------------------------------------------------------------------

static const char *errno_name(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char *name = strerrorname_np(err);
  if (name != NULL) return name;
#endif
  return "EUNKNOWN";
}

static void set_string_prop(napi_env env, napi_value obj, const char *key, const char *value) {
  napi_value v;
  if (value != NULL && napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v) == napi_ok)
    napi_set_named_property(env, obj, key, v);
}

// Throws Error("<subject>: <syscall> failed: <ENAME> (<text>)") with code/errno/syscall/ifname.
static void throw_failure(napi_env env, const failure *f, const char *subject, const char *ifname) {
  char text[4096 + 512];
  snprintf(text, sizeof text, "%s: %s failed: %s (%s)", subject, f->syscall, errno_name(f->err),
           strerror(f->err));
  napi_value msg, code, error, num;
  if (napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg) != napi_ok ||
      napi_create_string_utf8(env, errno_name(f->err), NAPI_AUTO_LENGTH, &code) != napi_ok ||
      napi_create_error(env, code, msg, &error) != napi_ok) {
    napi_throw_error(env, NULL, text);
    return;
  }
  if (napi_create_int32(env, f->err, &num) == napi_ok) napi_set_named_property(env, error, "errno", num);
  set_string_prop(env, error, "syscall", f->syscall);
  set_string_prop(env, error, "ifname", ifname);
  napi_throw(env, error);
}

// A napi_* call that failed: a pending exception may already exist; otherwise throw a generic one.
#define NAPI_OK(call)                                                       \
  do {                                                                      \
    if ((call) != napi_ok) {                                                \
      bool pending = false;                                                 \
      napi_is_exception_pending(env, &pending);                             \
      if (!pending) napi_throw_error(env, NULL, "rackstrap_net: " #call);   \
      return NULL;                                                          \
    }                                                                       \
  } while (0)

// "interface eth0 in network namespace /run/netns/x port 67": what the error is about.
static void describe(char *buf, size_t size, const char *ifname, const char *netns, const char *extra) {
  snprintf(buf, size, "interface %s%s%s%s%s", ifname, netns ? " in network namespace " : "",
           netns ? netns : "", extra ? " " : "", extra ? extra : "");
}

// ---- argument parsing -------------------------------------------------------------------------

// Copies a JS string into buf (NUL-terminated). False (with a TypeError thrown) when `value` is
// not a string, is empty, or does not fit.
static bool get_string(napi_env env, napi_value value, char *buf, size_t size, const char *what) {
  napi_valuetype type;
  size_t len = 0;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_string) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a string", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return false;
  }
  if (napi_get_value_string_utf8(env, value, NULL, 0, &len) != napi_ok || len == 0 || len >= size) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be 1 to %zu bytes long", what, size - 1);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", msg);
    return false;
  }
  return napi_get_value_string_utf8(env, value, buf, size, &len) == napi_ok;
}

// Reads the optional string property `key` of `obj` into buf. *present tells whether it was set
// (undefined and null mean "not set").
static bool get_opt_string(napi_env env, napi_value obj, const char *key, char *buf, size_t size,
                           bool *present) {
  napi_value v;
  napi_valuetype type;
  *present = false;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok || napi_typeof(env, v, &type) != napi_ok)
    return false;
  if (type == napi_undefined || type == napi_null) return true;
  *present = true;
  return get_string(env, v, buf, size, key);
}

// Reads a non-negative integer of at most `max` (a TypeError/RangeError names `what` otherwise).
static bool get_uint(napi_env env, napi_value v, const char *what, int64_t max, int64_t *out) {
  napi_valuetype type;
  double d;
  if (napi_typeof(env, v, &type) != napi_ok) return false;
  if (type != napi_number || napi_get_value_double(env, v, &d) != napi_ok || d != (double)(int64_t)d ||
      d < 0 || d > (double)max) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be an integer from 0 to %lld", what, (long long)max);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return false;
  }
  *out = (int64_t)d;
  return true;
}

// Reads the optional integer property `key` (default `dflt`), from 0 to `max`.
static bool get_opt_uint(napi_env env, napi_value obj, const char *key, int64_t dflt, int64_t max,
                         int64_t *out) {
  napi_value v;
  napi_valuetype type;
  *out = dflt;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok || napi_typeof(env, v, &type) != napi_ok)
    return false;
  if (type == napi_undefined || type == napi_null) return true;
  return get_uint(env, v, key, max, out);
}

static bool get_opt_bool(napi_env env, napi_value obj, const char *key, bool dflt, bool *out) {
  napi_value v;
  napi_valuetype type;
  *out = dflt;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok || napi_typeof(env, v, &type) != napi_ok)
    return false;
  if (type == napi_undefined || type == napi_null) return true;
  if (type != napi_boolean) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a boolean", key);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return false;
  }
  return napi_get_value_bool(env, v, out) == napi_ok;
}

// The options object (last argument of every function); an empty object when omitted.
static bool get_opts(napi_env env, napi_value arg, napi_value *out) {
  napi_valuetype type;
  if (napi_typeof(env, arg, &type) != napi_ok) return false;
  if (type == napi_undefined || type == napi_null) return napi_create_object(env, out) == napi_ok;
  if (type != napi_object) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "options must be an object");
    return false;
  }
  *out = arg;
  return true;
}

// ---- network namespaces -----------------------------------------------------------------------

// Creates a socket inside the network namespace at `netns` (NULL: the thread's own namespace).
// The thread switches there with setns(CLONE_NEWNET) only for the socket() call and always
// switches back. Returns the fd, or -1 with *f set.
static int socket_in_netns_of(const char *netns, int domain, int type, int protocol, failure *f) {
  if (netns == NULL) {
    int fd = socket(domain, type, protocol);
    if (fd < 0) fail(f, "socket");
    return fd;
  }
  // Opened first, so we can always find the way back. thread-self: setns acts on this thread only.
  int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) {
    fail(f, "open /proc/thread-self/ns/net");
    return -1;
  }
  int target = open(netns, O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    fail(f, "open");
    close(home);
    return -1;
  }
  int fd = -1;
  if (setns(target, CLONE_NEWNET) < 0) {
    fail(f, "setns");
  } else {
    fd = socket(domain, type, protocol);
    if (fd < 0) fail(f, "socket");
    // Staying in the other namespace would silently move every later socket of the process
    // (Node's own included) there: nothing sane can continue, so this one is fatal.
    if (setns(home, CLONE_NEWNET) < 0)
      napi_fatal_error("rackstrap_net", NAPI_AUTO_LENGTH,
                       "cannot return to the original network namespace", NAPI_AUTO_LENGTH);
  }
  close(target);
  close(home);
  return fd;
}

static int socket_in_netns(const char *netns, int type, failure *f) {
  return socket_in_netns_of(netns, AF_INET, type, 0, f);
}

// ---- openUdpSocket(ifname, port, { netns?, recvBufferSize?, reuseAddress?, multicastGroup? }) → fd ------------

static bool set_int_opt(int fd, int level, int name, int value, const char *label, failure *f) {
  if (setsockopt(fd, level, name, &value, sizeof value) < 0) return fail(f, label);
  return true;
}

// Configures `fd` as a UDP socket on `ifname` only, bound to 0.0.0.0:port.
static bool configure_udp(int fd, const char *ifname, int port, int rcvbuf, bool reuse, failure *f) {
  // Lets another socket share the port (a restarted peer, a second tool on the same interface).
  if (reuse && !set_int_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1, "setsockopt(SO_REUSEADDR)", f))
    return false;
  // DHCP talks to 255.255.255.255 (RFC 2131 §4.1) before anyone has an address.
  if (!set_int_opt(fd, SOL_SOCKET, SO_BROADCAST, 1, "setsockopt(SO_BROADCAST)", f)) return false;
  // The point of this addon: send from and receive on this interface only, address or not.
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname) + 1) < 0)
    return fail(f, "setsockopt(SO_BINDTODEVICE)");
  if (rcvbuf > 0) {
    // SO_RCVBUFFORCE passes net.core.rmem_max (needs CAP_NET_ADMIN); without it, the capped one.
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0) {
      if (errno != EPERM) return fail(f, "setsockopt(SO_RCVBUFFORCE)");
      if (!set_int_opt(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf, "setsockopt(SO_RCVBUF)", f)) return false;
    }
  }
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) return fail(f, "bind");
  return true;
}

// Joins `group` (e.g. 224.0.0.251, RFC 6762 §3) on `ifname` by interface index, so membership does
// not depend on the interface's addresses (they may change while the socket lives), and makes the
// interface the socket's multicast output. TTL 255 (RFC 6762 §11); loopback on, so other sockets
// of this host on the same interface (a browser beside a responder) hear us.
static bool join_multicast(int fd, const char *ifname, const char *group, failure *f) {
  struct ip_mreqn mreq;
  memset(&mreq, 0, sizeof mreq);
  if (inet_pton(AF_INET, group, &mreq.imr_multiaddr) != 1) {
    errno = EINVAL;
    return fail(f, "inet_pton(multicastGroup)");
  }
  // Asked through the socket: it lives in the target namespace, the calling thread no longer does.
  struct ifreq req;
  memset(&req, 0, sizeof req);
  memcpy(req.ifr_name, ifname, strlen(ifname) + 1);
  if (ioctl(fd, SIOCGIFINDEX, &req) < 0) return fail(f, "ioctl(SIOCGIFINDEX)");
  mreq.imr_ifindex = req.ifr_ifindex;
  if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) < 0)
    return fail(f, "setsockopt(IP_ADD_MEMBERSHIP)");
  struct ip_mreqn out;
  memset(&out, 0, sizeof out);
  out.imr_ifindex = mreq.imr_ifindex;
  if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &out, sizeof out) < 0)
    return fail(f, "setsockopt(IP_MULTICAST_IF)");
  if (!set_int_opt(fd, IPPROTO_IP, IP_MULTICAST_TTL, 255, "setsockopt(IP_MULTICAST_TTL)", f)) return false;
  if (!set_int_opt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 1, "setsockopt(IP_MULTICAST_LOOP)", f)) return false;
  return true;
}

static napi_value open_udp_socket(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], opts;
  char ifname[IFNAMSIZ], netns[4096], group[INET_ADDRSTRLEN];
  bool has_netns = false, reuse = true, has_group = false;
  int64_t port = 0, rcvbuf = 0;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "openUdpSocket(ifname, port, opts?)");
    return NULL;
  }
  if (!get_string(env, argv[0], ifname, sizeof ifname, "ifname")) return NULL;
  if (!get_uint(env, argv[1], "port", 65535, &port)) return NULL;
  // Missing trailing arguments arrive as undefined (napi_get_cb_info fills them).
  if (!get_opts(env, argv[2], &opts)) return NULL;
  if (!get_opt_string(env, opts, "netns", netns, sizeof netns, &has_netns)) return NULL;
  if (!get_opt_uint(env, opts, "recvBufferSize", 0, 0x7fffffff, &rcvbuf)) return NULL;
  if (!get_opt_bool(env, opts, "reuseAddress", true, &reuse)) return NULL;
  if (!get_opt_string(env, opts, "multicastGroup", group, sizeof group, &has_group)) return NULL;

  failure f = {0, NULL};
  char port_text[16], subject[sizeof netns + 96];
  snprintf(port_text, sizeof port_text, "port %d", (int)port);
  describe(subject, sizeof subject, ifname, has_netns ? netns : NULL, port_text);
  // Non-blocking for libuv; close-on-exec so spawned tools (ip, dhclient) don't inherit it.
  int fd = socket_in_netns(has_netns ? netns : NULL, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, &f);
  if (fd < 0) {
    throw_failure(env, &f, subject, ifname);
    return NULL;
  }
  if (!configure_udp(fd, ifname, (int)port, (int)rcvbuf, reuse, &f) ||
      (has_group && !join_multicast(fd, ifname, group, &f))) {
    close(fd);
    throw_failure(env, &f, subject, ifname);
    return NULL;
  }
  napi_value result;
  if (napi_create_int32(env, fd, &result) != napi_ok) {
    close(fd);
    napi_throw_error(env, NULL, "rackstrap_net: napi_create_int32");
    return NULL;
  }
  return result;
}

// ---- setArpEntry(ifname, ip, mac, { netns? }) ------------------------------------------------

// "aa:bb:cc:dd:ee:ff" → 6 bytes; false when it is anything else.
static bool parse_mac(const char *text, unsigned char mac[6]) {
  int consumed = 0;
  if (strlen(text) != 17) return false;
  if (sscanf(text, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx%n", &mac[0], &mac[1], &mac[2], &mac[3],
             &mac[4], &mac[5], &consumed) != 6)
    return false;
  return consumed == 17;
}

// RFC 2131 §4.1: a reply to a client whose broadcast bit is clear goes by unicast to yiaddr and
// chaddr, though the client cannot answer ARP for yiaddr yet. Writing the neighbour entry first
// (as dnsmasq does) lets the kernel send it there. ATF_COM: complete, not permanent, so the kernel
// ages it out like any learnt entry.
static napi_value set_arp_entry(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], opts;
  char ifname[IFNAMSIZ], ip[INET_ADDRSTRLEN], mac_text[18], netns[4096];
  bool has_netns = false;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "setArpEntry(ifname, ip, mac, opts?)");
    return NULL;
  }
  if (!get_string(env, argv[0], ifname, sizeof ifname, "ifname") ||
      !get_string(env, argv[1], ip, sizeof ip, "ip") ||
      !get_string(env, argv[2], mac_text, sizeof mac_text, "mac"))
    return NULL;
  if (!get_opts(env, argv[3], &opts)) return NULL;
  if (!get_opt_string(env, opts, "netns", netns, sizeof netns, &has_netns)) return NULL;

  struct arpreq req;
  memset(&req, 0, sizeof req);
  struct sockaddr_in *pa = (struct sockaddr_in *)&req.arp_pa;
  pa->sin_family = AF_INET;
  if (inet_pton(AF_INET, ip, &pa->sin_addr) != 1) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "ip must be a dotted-quad IPv4 address");
    return NULL;
  }
  unsigned char mac[6];
  if (!parse_mac(mac_text, mac)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "mac must look like aa:bb:cc:dd:ee:ff");
    return NULL;
  }
  req.arp_ha.sa_family = ARPHRD_ETHER;
  memcpy(req.arp_ha.sa_data, mac, sizeof mac);
  req.arp_flags = ATF_COM;
  memcpy(req.arp_dev, ifname, strlen(ifname) + 1);  // fits: get_string checked < IFNAMSIZ

  failure f = {0, NULL};
  char extra[64], subject[sizeof netns + 96];
  snprintf(extra, sizeof extra, "ARP entry %s -> %s", ip, mac_text);
  describe(subject, sizeof subject, ifname, has_netns ? netns : NULL, extra);
  int fd = socket_in_netns(has_netns ? netns : NULL, SOCK_DGRAM | SOCK_CLOEXEC, &f);
  if (fd < 0) {
    throw_failure(env, &f, subject, ifname);
    return NULL;
  }
  // The ioctl acts on the socket's namespace, so it may run after the thread went home.
  if (ioctl(fd, SIOCSARP, &req) < 0) {
    fail(&f, "ioctl(SIOCSARP)");
    close(fd);
    throw_failure(env, &f, subject, ifname);
    return NULL;
  }
  close(fd);
  return NULL;
}

// ---- interfaceInfo(ifname, { netns? }) → { index, mac } --------------------------------------

// The DHCP client needs its chaddr (RFC 2131 §2) and callers may want the ifindex; one ioctl each.
static napi_value interface_info(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], opts;
  char ifname[IFNAMSIZ], netns[4096];
  bool has_netns = false;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "interfaceInfo(ifname, opts?)");
    return NULL;
  }
  if (!get_string(env, argv[0], ifname, sizeof ifname, "ifname")) return NULL;
  if (!get_opts(env, argv[1], &opts)) return NULL;
  if (!get_opt_string(env, opts, "netns", netns, sizeof netns, &has_netns)) return NULL;

  failure f = {0, NULL};
  char subject[sizeof netns + 64];
  describe(subject, sizeof subject, ifname, has_netns ? netns : NULL, NULL);
  int fd = socket_in_netns(has_netns ? netns : NULL, SOCK_DGRAM | SOCK_CLOEXEC, &f);
  if (fd < 0) {
    throw_failure(env, &f, subject, ifname);
    return NULL;
  }
  struct ifreq by_index, by_hw;
  memset(&by_index, 0, sizeof by_index);
  memcpy(by_index.ifr_name, ifname, strlen(ifname) + 1);
  by_hw = by_index;
  if (ioctl(fd, SIOCGIFINDEX, &by_index) < 0) {
    fail(&f, "ioctl(SIOCGIFINDEX)");
  } else if (ioctl(fd, SIOCGIFHWADDR, &by_hw) < 0) {
    fail(&f, "ioctl(SIOCGIFHWADDR)");
  }
  close(fd);
  if (f.err != 0) {
    throw_failure(env, &f, subject, ifname);
    return NULL;
  }
  // Ethernet-like links have a 6-byte address; others (lo) report zeros, which we pass through.
  const unsigned char *hw = (const unsigned char *)by_hw.ifr_hwaddr.sa_data;
  char mac[18];
  snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", hw[0], hw[1], hw[2], hw[3], hw[4], hw[5]);
  napi_value result, index, mac_value, hwtype;
  NAPI_OK(napi_create_object(env, &result));
  NAPI_OK(napi_create_int32(env, by_index.ifr_ifindex, &index));
  NAPI_OK(napi_create_string_utf8(env, mac, NAPI_AUTO_LENGTH, &mac_value));
  NAPI_OK(napi_create_int32(env, by_hw.ifr_hwaddr.sa_family, &hwtype));
  NAPI_OK(napi_set_named_property(env, result, "index", index));
  NAPI_OK(napi_set_named_property(env, result, "mac", mac_value));
  // ARPHRD_* (1 = Ethernet, RFC 1700 hardware type used as DHCP htype, RFC 2131 §2).
  NAPI_OK(napi_set_named_property(env, result, "hardwareType", hwtype));
  return result;
}

// ---- watchNetlink(groups, { netns?, recvBufferSize? }, onData) → { fd, close() } ---------------

// A NETLINK_ROUTE socket subscribed to the given multicast groups (RTNLGRP_* numbers), read on
// Node's own event loop: libuv polls the fd and each wake-up hands every datagram that is queued
// to `onData(errorName | null, buffers)` in one call. libuv cannot wrap a netlink socket in a
// dgram handle (it only knows UDP/TCP/pipes), hence the uv_poll here. Decoding stays in
// TypeScript. When the kernel drops messages because the receive buffer was full, recv() fails
// with ENOBUFS once: that is passed on as "ENOBUFS" so the caller can re-read the whole state.

#define NL_BUF_SIZE 65536   // the kernel's largest rtnetlink datagram is NLMSG_GOODSIZE (8 KiB)
#define NL_MAX_READS 256    // datagrams handed over per wake-up, so a storm cannot starve the loop

typedef struct {
  uv_poll_t poll;
  int fd;
  bool closing;
  napi_env env;
  napi_ref callback;
  napi_ref resource;
  napi_async_context context;
  unsigned char *buf;
} nl_watch;

static void nl_free(uv_handle_t *handle) {
  nl_watch *w = (nl_watch *)handle->data;
  close(w->fd);
  free(w->buf);
  free(w);
}

// Stops polling and releases everything; the fd is closed once libuv has let go of the handle.
static void nl_cleanup_hook(void *arg);

static void nl_stop(nl_watch *w) {
  if (w->closing) return;
  w->closing = true;
  napi_remove_env_cleanup_hook(w->env, nl_cleanup_hook, w);
  uv_poll_stop(&w->poll);
  napi_async_destroy(w->env, w->context);
  napi_delete_reference(w->env, w->callback);
  napi_delete_reference(w->env, w->resource);
  uv_close((uv_handle_t *)&w->poll, nl_free);
}

static void nl_deliver(nl_watch *w, const char *error, napi_value buffers) {
  napi_env env = w->env;
  napi_value cb, resource, args[2], result;
  if (napi_get_reference_value(env, w->callback, &cb) != napi_ok ||
      napi_get_reference_value(env, w->resource, &resource) != napi_ok)
    return;
  if (error != NULL) napi_create_string_utf8(env, error, NAPI_AUTO_LENGTH, &args[0]);
  else napi_get_null(env, &args[0]);
  args[1] = buffers;
  if (napi_make_callback(env, w->context, resource, cb, 2, args, &result) == napi_pending_exception) {
    // Nothing of ours is on the stack: the exception belongs to the process (uncaughtException).
    napi_value exception;
    if (napi_get_and_clear_last_exception(env, &exception) == napi_ok) napi_fatal_exception(env, exception);
  }
}

static void nl_on_readable(uv_poll_t *handle, int status, int events) {
  nl_watch *w = (nl_watch *)handle->data;
  if (w->closing) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value buffers;
  napi_create_array(env, &buffers);
  uint32_t count = 0;
  bool overflow = false;
  const char *error = NULL;
  for (int i = 0; i < NL_MAX_READS; i++) {
    ssize_t n = recv(w->fd, w->buf, NL_BUF_SIZE, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      // Reported once, then the queue (what was not dropped) reads on.
      if (errno == ENOBUFS) {
        overflow = true;
        continue;
      }
      error = errno_name(errno);
      break;
    }
    napi_value b;
    void *data;
    if (napi_create_buffer_copy(env, (size_t)n, w->buf, &data, &b) != napi_ok) break;
    napi_set_element(env, buffers, count++, b);
  }
  // A pending socket error (ENOBUFS) raises POLLERR, which libuv reports as UV_EBADF and stops
  // polling for; recv() above has read and cleared the error, so polling starts again.
  if (status < 0 && error == NULL) uv_poll_start(&w->poll, UV_READABLE, nl_on_readable);
  if (count > 0 || overflow || error != NULL) nl_deliver(w, error != NULL ? error : overflow ? "ENOBUFS" : NULL, buffers);
  napi_close_handle_scope(env, scope);
}

static napi_value nl_close(napi_env env, napi_callback_info info) {
  void *data;
  NAPI_OK(napi_get_cb_info(env, info, NULL, NULL, NULL, &data));
  nl_stop((nl_watch *)data);
  return NULL;
}

// Called when the environment shuts down (a worker ends) with the watch still open.
static void nl_cleanup_hook(void *arg) {
  nl_watch *w = (nl_watch *)arg;
  if (!w->closing) {
    w->closing = true;
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, nl_free);
  }
}

static bool configure_netlink(int fd, napi_env env, napi_value groups, int rcvbuf, failure *f) {
  if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0) {
    if (errno != EPERM) return fail(f, "setsockopt(SO_RCVBUFFORCE)");
    if (!set_int_opt(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf, "setsockopt(SO_RCVBUF)", f)) return false;
  }
  struct sockaddr_nl addr;
  memset(&addr, 0, sizeof addr);
  addr.nl_family = AF_NETLINK;
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) return fail(f, "bind");
  uint32_t n = 0;
  napi_get_array_length(env, groups, &n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    int32_t group = 0;
    if (napi_get_element(env, groups, i, &v) != napi_ok || napi_get_value_int32(env, v, &group) != napi_ok)
      continue;  // checked by the caller
    if (!set_int_opt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group, "setsockopt(NETLINK_ADD_MEMBERSHIP)", f))
      return false;
  }
  return true;
}

static napi_value watch_netlink(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], opts;
  char netns[4096];
  bool has_netns = false, is_array = false;
  int64_t rcvbuf = 0;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "watchNetlink(groups, opts, onData)");
    return NULL;
  }
  NAPI_OK(napi_is_array(env, argv[0], &is_array));
  uint32_t ngroups = 0;
  if (is_array) NAPI_OK(napi_get_array_length(env, argv[0], &ngroups));
  for (uint32_t i = 0; is_array && i < ngroups; i++) {
    napi_value v;
    int64_t g;
    NAPI_OK(napi_get_element(env, argv[0], i, &v));
    if (!get_uint(env, v, "netlink group", 1023, &g)) return NULL;
  }
  if (!is_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "groups must be an array of RTNLGRP_* numbers");
    return NULL;
  }
  if (!get_opts(env, argv[1], &opts)) return NULL;
  if (!get_opt_string(env, opts, "netns", netns, sizeof netns, &has_netns)) return NULL;
  if (!get_opt_uint(env, opts, "recvBufferSize", 0, 0x7fffffff, &rcvbuf)) return NULL;
  napi_valuetype cbtype;
  NAPI_OK(napi_typeof(env, argv[2], &cbtype));
  if (cbtype != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "onData must be a function");
    return NULL;
  }

  failure f = {0, NULL};
  char subject[sizeof netns + 64];
  snprintf(subject, sizeof subject, "rtnetlink socket%s%s", has_netns ? " in network namespace " : "",
           has_netns ? netns : "");
  int fd = socket_in_netns_of(has_netns ? netns : NULL, AF_NETLINK,
                              SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE, &f);
  if (fd < 0) {
    throw_failure(env, &f, subject, NULL);
    return NULL;
  }
  if (!configure_netlink(fd, env, argv[0], (int)rcvbuf, &f)) {
    close(fd);
    throw_failure(env, &f, subject, NULL);
    return NULL;
  }
  uv_loop_t *loop;
  nl_watch *w = calloc(1, sizeof *w);
  unsigned char *buf = malloc(NL_BUF_SIZE);
  if (w == NULL || buf == NULL || napi_get_uv_event_loop(env, &loop) != napi_ok ||
      uv_poll_init(loop, &w->poll, fd) != 0) {
    free(w);
    free(buf);
    close(fd);
    napi_throw_error(env, NULL, "rackstrap_net: cannot set up polling of the rtnetlink socket");
    return NULL;
  }
  w->fd = fd;
  w->env = env;
  w->buf = buf;
  w->poll.data = w;
  napi_value result, resource_name, close_fn, fd_value;
  NAPI_OK(napi_create_object(env, &result));
  NAPI_OK(napi_create_string_utf8(env, "rackstrap:netlink", NAPI_AUTO_LENGTH, &resource_name));
  NAPI_OK(napi_async_init(env, result, resource_name, &w->context));
  NAPI_OK(napi_create_reference(env, argv[2], 1, &w->callback));
  NAPI_OK(napi_create_reference(env, result, 1, &w->resource));
  NAPI_OK(napi_create_function(env, "close", NAPI_AUTO_LENGTH, nl_close, w, &close_fn));
  NAPI_OK(napi_create_int32(env, fd, &fd_value));
  NAPI_OK(napi_set_named_property(env, result, "close", close_fn));
  NAPI_OK(napi_set_named_property(env, result, "fd", fd_value));
  napi_add_env_cleanup_hook(env, nl_cleanup_hook, w);
  uv_poll_start(&w->poll, UV_READABLE, nl_on_readable);
  return result;
}

// ---- peerCredentials(fd) → { pid, uid, gid } -------------------------------------------------

// Who is on the other end of a connected unix socket (SO_PEERCRED): the control socket serves
// root only, whatever the file's mode says.
static napi_value peer_credentials(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int64_t fd;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "peerCredentials(fd)");
    return NULL;
  }
  if (!get_uint(env, argv[0], "fd", 0x7fffffff, &fd)) return NULL;
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt((int)fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
    failure f = {0, NULL};
    fail(&f, "getsockopt(SO_PEERCRED)");
    throw_failure(env, &f, "unix socket", NULL);
    return NULL;
  }
  napi_value result, pid, uid, gid;
  NAPI_OK(napi_create_object(env, &result));
  NAPI_OK(napi_create_int32(env, cred.pid, &pid));
  NAPI_OK(napi_create_uint32(env, cred.uid, &uid));
  NAPI_OK(napi_create_uint32(env, cred.gid, &gid));
  NAPI_OK(napi_set_named_property(env, result, "pid", pid));
  NAPI_OK(napi_set_named_property(env, result, "uid", uid));
  NAPI_OK(napi_set_named_property(env, result, "gid", gid));
  return result;
}

// ---- sdNotify(socket, text) ------------------------------------------------------------------

// One datagram to systemd's notification socket ($NOTIFY_SOCKET: a path, or "@name" for the
// abstract namespace), as sd_notify(3) sends it. Node has no unix datagram sockets, and
// `systemd-notify` would send from a child PID that NotifyAccess=main ignores.
static napi_value sd_notify(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  struct sockaddr_un addr;
  char path[sizeof addr.sun_path + 1], text[4096];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "sdNotify(socket, text)");
    return NULL;
  }
  if (!get_string(env, argv[0], path, sizeof path, "socket")) return NULL;
  if (!get_string(env, argv[1], text, sizeof text, "text")) return NULL;
  size_t len = strlen(path);
  if (len > sizeof addr.sun_path || (path[0] != '/' && path[0] != '@') || (path[0] == '/' && len == sizeof addr.sun_path)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "socket must be an absolute path or @abstract name that fits sun_path");
    return NULL;
  }
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = '\0';
  socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/' ? 1 : 0));
  failure f = {0, NULL};
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fail(&f, "socket(AF_UNIX)");
  } else {
    if (sendto(fd, text, strlen(text), MSG_NOSIGNAL, (struct sockaddr *)&addr, alen) < 0) fail(&f, "sendto");
    close(fd);
  }
  if (f.err != 0) {
    char subject[sizeof path + 32];
    snprintf(subject, sizeof subject, "notify socket %s", path);
    throw_failure(env, &f, subject, NULL);
    return NULL;
  }
  return NULL;
}

// ---- UDP in batches: udpWatch(fd, opts, onBatch), udpSendMany(fd, data, meta, count), udpBacklog(fd)

// The embedded server's sockets, read and written many datagrams per system call instead of one
// libuv callback (and one JS call) per datagram. udpWatch takes over a UDP fd from openUdpSocket:
// libuv polls it on Node's own loop, and at each wake-up recvmmsg() reads whole batches into one
// buffer that the JS side owns and reuses (slot i at i * slotSize); `meta` gets, per datagram,
// [length, source address (host order), source port, flags (1: cut short)]. onBatch(null, count)
// runs once per batch, synchronously, so the JS side must read (or copy) a batch before it returns.
// udpSendMany() sends `count` datagrams with sendmmsg(): message i is
// data[meta[5i], meta[5i] + meta[5i+1]) to meta[5i+2]:meta[5i+3]; meta[5i+4] gets 0 or the errno
// it failed with (the others are still sent). It returns how many it went through: fewer than
// `count` only when the socket's send buffer is full (EAGAIN), and the caller sends the rest later.

#define UDP_MAX_SLOTS 1024
#define UDP_MAX_SLOT_SIZE 65536

typedef struct {
  uv_poll_t poll;
  int fd;
  bool closing;
  napi_env env;
  napi_ref callback;
  napi_ref resource;
  napi_ref buffer;
  napi_ref meta;
  napi_async_context context;
  unsigned char *data;
  uint32_t *meta_data;
  uint32_t slots, slot_size, max_per_wake;
  struct mmsghdr *msgs;
  struct iovec *iov;
  struct sockaddr_in *from;
} udp_watch;

static void udp_free(uv_handle_t *handle) {
  udp_watch *w = (udp_watch *)handle->data;
  close(w->fd);
  free(w->msgs);
  free(w->iov);
  free(w->from);
  free(w);
}

static void udp_cleanup_hook(void *arg);

static void udp_stop(udp_watch *w) {
  if (w->closing) return;
  w->closing = true;
  napi_remove_env_cleanup_hook(w->env, udp_cleanup_hook, w);
  uv_poll_stop(&w->poll);
  napi_async_destroy(w->env, w->context);
  napi_delete_reference(w->env, w->callback);
  napi_delete_reference(w->env, w->resource);
  napi_delete_reference(w->env, w->buffer);
  napi_delete_reference(w->env, w->meta);
  uv_close((uv_handle_t *)&w->poll, udp_free);
}

static void udp_cleanup_hook(void *arg) {
  udp_watch *w = (udp_watch *)arg;
  if (!w->closing) {
    w->closing = true;
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, udp_free);
  }
}

// Calls onBatch(error, count); an exception it throws goes to the process, as a libuv callback's does.
static void udp_deliver(udp_watch *w, const char *error, uint32_t count) {
  napi_env env = w->env;
  napi_value cb, resource, args[2], result;
  if (napi_get_reference_value(env, w->callback, &cb) != napi_ok ||
      napi_get_reference_value(env, w->resource, &resource) != napi_ok)
    return;
  if (error != NULL) napi_create_string_utf8(env, error, NAPI_AUTO_LENGTH, &args[0]);
  else napi_get_null(env, &args[0]);
  napi_create_uint32(env, count, &args[1]);
  if (napi_make_callback(env, w->context, resource, cb, 2, args, &result) == napi_pending_exception) {
    napi_value exception;
    if (napi_get_and_clear_last_exception(env, &exception) == napi_ok) napi_fatal_exception(env, exception);
  }
}

static void udp_on_readable(uv_poll_t *handle, int status, int events) {
  udp_watch *w = (udp_watch *)handle->data;
  if (w->closing) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(w->env, &scope) != napi_ok) return;
  uint32_t total = 0;
  while (!w->closing && total < w->max_per_wake) {
    uint32_t want = w->slots;
    if (want > w->max_per_wake - total) want = w->max_per_wake - total;
    for (uint32_t i = 0; i < want; i++) {
      w->iov[i].iov_base = w->data + (size_t)i * w->slot_size;
      w->iov[i].iov_len = w->slot_size;
      memset(&w->msgs[i].msg_hdr, 0, sizeof w->msgs[i].msg_hdr);
      w->msgs[i].msg_hdr.msg_iov = &w->iov[i];
      w->msgs[i].msg_hdr.msg_iovlen = 1;
      w->msgs[i].msg_hdr.msg_name = &w->from[i];
      w->msgs[i].msg_hdr.msg_namelen = sizeof w->from[i];
      w->msgs[i].msg_len = 0;
    }
    int n = recvmmsg(w->fd, w->msgs, want, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      // A pending ICMP error or the like: reported, and reading goes on at the next wake-up.
      udp_deliver(w, errno_name(errno), 0);
      break;
    }
    if (n == 0) break;
    for (int i = 0; i < n; i++) {
      uint32_t *m = w->meta_data + 4 * i;
      m[0] = w->msgs[i].msg_len;
      m[1] = ntohl(w->from[i].sin_addr.s_addr);
      m[2] = ntohs(w->from[i].sin_port);
      m[3] = (w->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? 1 : 0;
    }
    total += (uint32_t)n;
    udp_deliver(w, NULL, (uint32_t)n);
    if ((uint32_t)n < want) break;  // the queue is empty
  }
  // A pending socket error raises POLLERR (libuv: status < 0) and stops the poll; start it again.
  if (status < 0 && !w->closing) uv_poll_start(&w->poll, UV_READABLE, udp_on_readable);
  napi_close_handle_scope(w->env, scope);
}

static napi_value udp_close(napi_env env, napi_callback_info info) {
  void *data;
  NAPI_OK(napi_get_cb_info(env, info, NULL, NULL, NULL, &data));
  udp_stop((udp_watch *)data);
  return NULL;
}

static napi_value udp_watch_fn(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], opts;
  int64_t fd, slots, slot_size, max_per_wake;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "udpWatch(fd, opts, onBatch)");
    return NULL;
  }
  if (!get_uint(env, argv[0], "fd", 0x7fffffff, &fd)) return NULL;
  if (!get_opts(env, argv[1], &opts)) return NULL;
  if (!get_opt_uint(env, opts, "slots", 64, UDP_MAX_SLOTS, &slots)) return NULL;
  if (!get_opt_uint(env, opts, "slotSize", 2048, UDP_MAX_SLOT_SIZE, &slot_size)) return NULL;
  if (!get_opt_uint(env, opts, "maxPerWake", 1024, 1 << 20, &max_per_wake)) return NULL;
  if (slots < 1 || slot_size < 1 || max_per_wake < 1) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "slots, slotSize and maxPerWake must be at least 1");
    return NULL;
  }
  napi_valuetype cbtype;
  NAPI_OK(napi_typeof(env, argv[2], &cbtype));
  if (cbtype != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "onBatch must be a function");
    return NULL;
  }
  int type = 0;
  socklen_t tlen = sizeof type;
  if (getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_DGRAM) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "fd must be an open datagram socket");
    return NULL;
  }
  int fl = fcntl((int)fd, F_GETFL);
  if (fl >= 0 && !(fl & O_NONBLOCK)) fcntl((int)fd, F_SETFL, fl | O_NONBLOCK);

  napi_value buffer, meta_ab, meta;
  void *data, *meta_data;
  NAPI_OK(napi_create_buffer(env, (size_t)slots * (size_t)slot_size, &data, &buffer));
  NAPI_OK(napi_create_arraybuffer(env, (size_t)slots * 4 * sizeof(uint32_t), &meta_data, &meta_ab));
  NAPI_OK(napi_create_typedarray(env, napi_uint32_array, (size_t)slots * 4, meta_ab, 0, &meta));

  uv_loop_t *loop;
  udp_watch *w = calloc(1, sizeof *w);
  struct mmsghdr *msgs = calloc((size_t)slots, sizeof *msgs);
  struct iovec *iov = calloc((size_t)slots, sizeof *iov);
  struct sockaddr_in *from = calloc((size_t)slots, sizeof *from);
  if (w == NULL || msgs == NULL || iov == NULL || from == NULL || napi_get_uv_event_loop(env, &loop) != napi_ok ||
      uv_poll_init(loop, &w->poll, (int)fd) != 0) {
    free(w);
    free(msgs);
    free(iov);
    free(from);
    napi_throw_error(env, NULL, "rackstrap_net: cannot set up polling of the UDP socket");
    return NULL;
  }
  w->fd = (int)fd;
  w->env = env;
  w->data = data;
  w->meta_data = meta_data;
  w->slots = (uint32_t)slots;
  w->slot_size = (uint32_t)slot_size;
  w->max_per_wake = (uint32_t)max_per_wake;
  w->msgs = msgs;
  w->iov = iov;
  w->from = from;
  w->poll.data = w;
  napi_value result, resource_name, close_fn, fd_value;
  NAPI_OK(napi_create_object(env, &result));
  NAPI_OK(napi_create_string_utf8(env, "rackstrap:udp", NAPI_AUTO_LENGTH, &resource_name));
  NAPI_OK(napi_async_init(env, result, resource_name, &w->context));
  NAPI_OK(napi_create_reference(env, argv[2], 1, &w->callback));
  NAPI_OK(napi_create_reference(env, result, 1, &w->resource));
  NAPI_OK(napi_create_reference(env, buffer, 1, &w->buffer));
  NAPI_OK(napi_create_reference(env, meta, 1, &w->meta));
  NAPI_OK(napi_create_function(env, "close", NAPI_AUTO_LENGTH, udp_close, w, &close_fn));
  NAPI_OK(napi_create_int32(env, (int)fd, &fd_value));
  NAPI_OK(napi_set_named_property(env, result, "close", close_fn));
  NAPI_OK(napi_set_named_property(env, result, "fd", fd_value));
  NAPI_OK(napi_set_named_property(env, result, "buffer", buffer));
  NAPI_OK(napi_set_named_property(env, result, "meta", meta));
  napi_add_env_cleanup_hook(env, udp_cleanup_hook, w);
  uv_poll_start(&w->poll, UV_READABLE, udp_on_readable);
  return result;
}

#define UDP_SEND_CHUNK 64

static napi_value udp_send_many(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int64_t fd, count;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "udpSendMany(fd, data, meta, count)");
    return NULL;
  }
  if (!get_uint(env, argv[0], "fd", 0x7fffffff, &fd)) return NULL;
  bool is_buffer = false, is_typed = false;
  NAPI_OK(napi_is_buffer(env, argv[1], &is_buffer));
  NAPI_OK(napi_is_typedarray(env, argv[2], &is_typed));
  if (!is_buffer || !is_typed) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "data must be a Buffer and meta a Uint32Array");
    return NULL;
  }
  void *data;
  size_t data_len;
  NAPI_OK(napi_get_buffer_info(env, argv[1], &data, &data_len));
  napi_typedarray_type ttype;
  size_t meta_len;
  void *meta_raw;
  NAPI_OK(napi_get_typedarray_info(env, argv[2], &ttype, &meta_len, &meta_raw, NULL, NULL));
  if (ttype != napi_uint32_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "meta must be a Uint32Array");
    return NULL;
  }
  if (!get_uint(env, argv[3], "count", 0x7fffffff, &count)) return NULL;
  uint32_t *meta = meta_raw;
  if ((size_t)count * 5 > meta_len) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "meta holds fewer than count messages (5 numbers each)");
    return NULL;
  }
  for (int64_t i = 0; i < count; i++) {
    uint64_t off = meta[5 * i], len = meta[5 * i + 1];
    if (off + len > data_len || meta[5 * i + 3] > 65535) {
      napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "a message lies outside data, or its port is not a port");
      return NULL;
    }
  }
  struct mmsghdr msgs[UDP_SEND_CHUNK];
  struct iovec iov[UDP_SEND_CHUNK];
  struct sockaddr_in to[UDP_SEND_CHUNK];
  int64_t done = 0;
  while (done < count) {
    int n = (int)(count - done > UDP_SEND_CHUNK ? UDP_SEND_CHUNK : count - done);
    for (int i = 0; i < n; i++) {
      uint32_t *m = meta + 5 * (done + i);
      iov[i].iov_base = (unsigned char *)data + m[0];
      iov[i].iov_len = m[1];
      memset(&to[i], 0, sizeof to[i]);
      to[i].sin_family = AF_INET;
      to[i].sin_addr.s_addr = htonl(m[2]);
      to[i].sin_port = htons((uint16_t)m[3]);
      memset(&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &to[i];
      msgs[i].msg_hdr.msg_namelen = sizeof to[i];
    }
    int r = sendmmsg((int)fd, msgs, (unsigned)n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r > 0) {
      for (int i = 0; i < r; i++) meta[5 * (done + i) + 4] = 0;
      done += r;
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) break;
    // The first message failed on its own (no route, EACCES for a broadcast, ...): note it, go on.
    meta[5 * done + 4] = (uint32_t)errno;
    done++;
  }
  napi_value result;
  NAPI_OK(napi_create_int64(env, done, &result));
  return result;
}

// Bytes queued in the socket's receive buffer (SO_MEMINFO, SK_MEMINFO_RMEM_ALLOC): what
// /proc/net/udp shows as rx_queue, for this one socket, without reading and parsing that file.
static napi_value udp_backlog(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int64_t fd;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "udpBacklog(fd)");
    return NULL;
  }
  if (!get_uint(env, argv[0], "fd", 0x7fffffff, &fd)) return NULL;
  uint32_t mem[SK_MEMINFO_VARS];
  socklen_t len = sizeof mem;
  if (getsockopt((int)fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0) {
    failure f = {0, NULL};
    fail(&f, "getsockopt(SO_MEMINFO)");
    throw_failure(env, &f, "UDP socket", NULL);
    return NULL;
  }
  napi_value result;
  NAPI_OK(napi_create_uint32(env, mem[SK_MEMINFO_RMEM_ALLOC], &result));
  return result;
}

// ---- module -----------------------------------------------------------------------------------

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"openUdpSocket", NULL, open_udp_socket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setArpEntry", NULL, set_arp_entry, NULL, NULL, NULL, napi_enumerable, NULL},
      {"interfaceInfo", NULL, interface_info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"watchNetlink", NULL, watch_netlink, NULL, NULL, NULL, napi_enumerable, NULL},
      {"peerCredentials", NULL, peer_credentials, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sdNotify", NULL, sd_notify, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpWatch", NULL, udp_watch_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpSendMany", NULL, udp_send_many, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpBacklog", NULL, udp_backlog, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok)
    return NULL;
  return exports;
}
