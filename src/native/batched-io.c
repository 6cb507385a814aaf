// Batched reads for the gateway's plain TCP sockets: one epoll set of its own, watched by the
// event loop through a single uv_poll handle; when any of its sockets is readable, every ready
// socket is read (one read(2) each, into one shared buffer) and JavaScript is called once for the
// whole batch, instead of once per socket as Node's streams do (a JS callback per read, with its
// callback scope, was the largest part of the gateway's user CPU per unpipelined command).
// Writes: write(2) of a descriptor from a Buffer, without fs.writeSync()'s request object.
//
// JavaScript side: src/net/batched-io.ts. Linux only (epoll); built by scripts/build-native.js.
#include <errno.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <uv.h>

#define MAX_EVENTS 256
// A read takes at most this many bytes; the batch ends while the shared buffer has less room.
#define READ_BYTES 65536

typedef struct {
  napi_env env;
  int ep;
  uv_poll_t poll;
  int polling;
  napi_ref onBatch;   // function (count): meta[3i..3i+2] = id, bytes read (0 EOF, <0 -errno), offset
  napi_ref resource;  // async resource for napi_make_callback
  napi_async_context actx;
  napi_ref bufRef, metaRef;
  uint8_t *buf;
  size_t bufLen;
  int32_t *meta;
  size_t metaLen;  // in int32 elements
} Batch;

#define CHECK(call)                                          \
  do {                                                       \
    if ((call) != napi_ok) {                                 \
      napi_throw_error(env, NULL, "batched-io: " #call);     \
      return NULL;                                           \
    }                                                        \
  } while (0)

static void on_closed(uv_handle_t *h) { free(h->data); }

static void on_poll(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  Batch *b = (Batch *)h->data;
  struct epoll_event ev[MAX_EVENTS];
  size_t maxEvents = b->metaLen / 3 < MAX_EVENTS ? b->metaLen / 3 : MAX_EVENTS;
  int n = epoll_wait(b->ep, ev, (int)maxEvents, 0);
  if (n <= 0) return;
  size_t off = 0;
  int k = 0;
  for (int i = 0; i < n; i++) {
    if (b->bufLen - off < READ_BYTES) break;  // the rest stay ready: the next poll reads them
    int fd = (int)(uint32_t)(ev[i].data.u64 & 0xffffffffu);
    int32_t id = (int32_t)(ev[i].data.u64 >> 32);
    ssize_t r = read(fd, b->buf + off, READ_BYTES);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    b->meta[3 * k] = id;
    b->meta[3 * k + 1] = r < 0 ? -errno : (int32_t)r;
    b->meta[3 * k + 2] = (int32_t)off;
    k++;
    if (r > 0) off += (size_t)r;
  }
  if (k == 0) return;
  napi_env env = b->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, argv[1], result;
  napi_get_reference_value(env, b->onBatch, &cb);
  napi_get_reference_value(env, b->resource, &recv);
  napi_create_int32(env, k, &argv[0]);
  if (napi_make_callback(env, b->actx, recv, cb, 1, argv, &result) == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
  napi_close_handle_scope(env, scope);
}

// The batch of args[0] (a handle from open()) and `want` int32 arguments after it.
static Batch *batch_args(napi_env env, napi_callback_info info, size_t want, int32_t *out) {
  size_t argc = want + 1;
  napi_value argv[4];
  Batch *b = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want + 1 ||
      napi_unwrap(env, argv[0], (void **)&b) != napi_ok || b == NULL || !b->polling) {
    napi_throw_type_error(env, NULL, "batched-io: expected an open batch");
    return NULL;
  }
  for (size_t i = 0; i < want; i++) {
    if (napi_get_value_int32(env, argv[i + 1], &out[i]) != napi_ok) {
      napi_throw_type_error(env, NULL, "batched-io: expected integers");
      return NULL;
    }
  }
  return b;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Batch *b = data;
  if (!b->polling) {
    free(b);
    return;
  }
  uv_poll_stop(&b->poll);
  close(b->ep);
  // The handle's memory is in the struct: freed once libuv is done with it.
  uv_close((uv_handle_t *)&b->poll, on_closed);
}

static napi_value ret_i32(napi_env env, int32_t v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
}

// A read buffer argument: a Buffer of at least READ_BYTES (a batch's one read must fit). Throws
// and answers 0 otherwise.
static int read_buffer(napi_env env, napi_value v, void **data, size_t *len) {
  if (napi_get_buffer_info(env, v, data, len) != napi_ok) {
    napi_throw_type_error(env, NULL, "batched-io: the read buffer must be a Buffer");
    return 0;
  }
  if (*len < READ_BYTES) {
    napi_throw_range_error(env, NULL, "batched-io: the read buffer must hold at least 64 KiB");
    return 0;
  }
  return 1;
}

// open(onBatch, buffer, meta): a new batch (a handle for the other functions), watching from
// now on; buffer (Buffer, >= 64 KiB) receives the bytes, meta (Int32Array) the triples. Throws
// on bad arguments or when epoll or libuv refuse.
static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *data;
  size_t len;
  if (!read_buffer(env, argv[1], &data, &len)) return NULL;
  napi_typedarray_type type;
  size_t mlen;
  void *mdata;
  CHECK(napi_get_typedarray_info(env, argv[2], &type, &mlen, &mdata, NULL, NULL));
  if (type != napi_int32_array || mlen < 3) {
    napi_throw_type_error(env, NULL, "batched-io: meta must be an Int32Array of at least 3");
    return NULL;
  }
  Batch *b = calloc(1, sizeof(Batch));
  if (b == NULL) {
    napi_throw_error(env, NULL, "batched-io: out of memory");
    return NULL;
  }
  b->env = env;
  b->buf = data;
  b->bufLen = len;
  b->meta = mdata;
  b->metaLen = mlen;
  CHECK(napi_create_reference(env, argv[0], 1, &b->onBatch));
  CHECK(napi_create_reference(env, argv[1], 1, &b->bufRef));
  CHECK(napi_create_reference(env, argv[2], 1, &b->metaRef));
  napi_value res, name;
  CHECK(napi_create_object(env, &res));
  CHECK(napi_create_reference(env, res, 1, &b->resource));
  CHECK(napi_create_string_utf8(env, "redfly.batchedRead", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, res, name, &b->actx));
  b->ep = epoll_create1(EPOLL_CLOEXEC);
  if (b->ep < 0) {
    napi_throw_error(env, NULL, strerror(errno));
    return NULL;  // b is left: a failed open is rare and final (the caller falls back)
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  b->poll.data = b;
  if (uv_poll_init(loop, &b->poll, b->ep) != 0 || uv_poll_start(&b->poll, UV_READABLE, on_poll) != 0) {
    close(b->ep);
    napi_throw_error(env, NULL, "batched-io: uv_poll on the epoll descriptor failed");
    return NULL;
  }
  b->poll.data = b;
  b->polling = 1;
  // The handle must not keep the process alive on its own: each socket does.
  uv_unref((uv_handle_t *)&b->poll);
  napi_value handle;
  CHECK(napi_create_object(env, &handle));
  CHECK(napi_wrap(env, handle, b, finalize, NULL, NULL));
  return handle;
}

static int ctl(Batch *b, int op, int fd, int32_t id, uint32_t events) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = events;
  ev.data.u64 = ((uint64_t)(uint32_t)id << 32) | (uint32_t)fd;
  return epoll_ctl(b->ep, op, fd, &ev) == 0 ? 0 : -errno;
}

// setBuffer(batch, buffer): read the next batches into this Buffer (>= 64 KiB) instead; the caller
// keeps the old one for as long as it holds views of it.
static napi_value SetBuffer(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  Batch *b = NULL;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || napi_unwrap(env, argv[0], (void **)&b) != napi_ok || b == NULL) {
    napi_throw_type_error(env, NULL, "batched-io: expected an open batch");
    return NULL;
  }
  void *data;
  size_t len;
  if (!read_buffer(env, argv[1], &data, &len)) return NULL;
  if (b->bufRef != NULL) napi_delete_reference(env, b->bufRef);
  CHECK(napi_create_reference(env, argv[1], 1, &b->bufRef));
  b->buf = data;
  b->bufLen = len;
  napi_value ok;
  napi_get_boolean(env, 1, &ok);
  return ok;
}

// add(batch, fd, id): watch fd for reading. watch(batch, fd, id, on): readable again or not.
// remove(batch, fd). Each returns 0 or -errno.
static napi_value Add(napi_env env, napi_callback_info info) {
  int32_t a[2];
  Batch *b = batch_args(env, info, 2, a);
  if (b == NULL) return NULL;
  return ret_i32(env, ctl(b, EPOLL_CTL_ADD, a[0], a[1], EPOLLIN | EPOLLRDHUP));
}

static napi_value Watch(napi_env env, napi_callback_info info) {
  int32_t a[3];
  Batch *b = batch_args(env, info, 3, a);
  if (b == NULL) return NULL;
  return ret_i32(env, ctl(b, EPOLL_CTL_MOD, a[0], a[1], a[2] ? (EPOLLIN | EPOLLRDHUP) : 0));
}

static napi_value Remove(napi_env env, napi_callback_info info) {
  int32_t a[1];
  Batch *b = batch_args(env, info, 1, a);
  if (b == NULL) return NULL;
  return ret_i32(env, ctl(b, EPOLL_CTL_DEL, a[0], 0, 0));
}

// write(fd, buffer[, start, end]): one write(2) of buffer[start, end) (all of it without them;
// a range outside the buffer is an error); the bytes written, or -errno. The range spares the
// caller a subarray() (a new Buffer object per write) for part of a larger buffer.
static napi_value Write(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  void *data;
  size_t len;
  CHECK(napi_get_buffer_info(env, argv[1], &data, &len));
  if (argc >= 4) {
    int32_t start, end;
    CHECK(napi_get_value_int32(env, argv[2], &start));
    CHECK(napi_get_value_int32(env, argv[3], &end));
    if (start < 0 || end < start || (size_t)end > len) {
      napi_throw_range_error(env, NULL, "batched-io: write range out of bounds");
      return NULL;
    }
    data = (uint8_t *)data + start;
    len = (size_t)(end - start);
  }
  ssize_t r;
  do r = write(fd, data, len);
  while (r < 0 && errno == EINTR);
  return ret_i32(env, r < 0 ? -errno : (int32_t)r);
}

// idleTimeMetricsOff(): stops libuv measuring the loop's idle time, which Node turns on for
// every loop (performance.eventLoopUtilization()) and which costs each loop iteration a
// non-blocking epoll_pwait before the blocking one, and clock reads under a mutex around it
// (uv__io_poll and uv__metrics_update_idle_time, libuv 1.39+). libuv has no option to turn it
// off: this clears the option's bit in the loop's private fields, whose first member is the
// flags word (src/uv-common.h, libuv 1.39 to 1.48). True when done; false, changing nothing, for
// another libuv. eventLoopUtilization() then reports no idle time.
static napi_value IdleTimeMetricsOff(napi_env env, napi_callback_info info) {
  (void)info;
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  unsigned v = uv_version();
  int known = (v >> 16) == 1 && ((v >> 8) & 0xff) >= 39 && ((v >> 8) & 0xff) <= 48;
  if (known && loop->internal_fields != NULL) *(unsigned int *)loop->internal_fields &= ~(unsigned int)UV_METRICS_IDLE_TIME;
  napi_value r;
  napi_get_boolean(env, known && loop->internal_fields != NULL, &r);
  return r;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"open", NULL, Open, NULL, NULL, NULL, napi_default, NULL},
      {"add", NULL, Add, NULL, NULL, NULL, napi_default, NULL},
      {"watch", NULL, Watch, NULL, NULL, NULL, napi_default, NULL},
      {"remove", NULL, Remove, NULL, NULL, NULL, napi_default, NULL},
      {"write", NULL, Write, NULL, NULL, NULL, napi_default, NULL},
      {"setBuffer", NULL, SetBuffer, NULL, NULL, NULL, napi_default, NULL},
      {"idleTimeMetricsOff", NULL, IdleTimeMetricsOff, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
