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

static napi_value get_i32(napi_env env, napi_callback_info info, size_t want, int32_t *out) {
  size_t argc = want;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  for (size_t i = 0; i < want; i++) CHECK(napi_get_value_int32(env, argv[i], &out[i]));
  napi_value ok;
  napi_get_boolean(env, 1, &ok);
  return ok;
}

static napi_value ret_i32(napi_env env, int32_t v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
}

// open(onBatch, buffer, meta): starts watching; buffer (Buffer, >= 64 KiB) receives the bytes,
// meta (Int32Array) the triples. Returns true, or throws.
static napi_value Open(napi_env env, napi_callback_info info) {
  Batch *b;
  CHECK(napi_get_instance_data(env, (void **)&b));
  if (b->polling) {
    napi_throw_error(env, NULL, "batched-io: already open");
    return NULL;
  }
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *data;
  size_t len;
  CHECK(napi_get_buffer_info(env, argv[1], &data, &len));
  if (len < READ_BYTES) {
    napi_throw_range_error(env, NULL, "batched-io: the read buffer must hold at least 64 KiB");
    return NULL;
  }
  napi_typedarray_type type;
  size_t mlen;
  void *mdata;
  CHECK(napi_get_typedarray_info(env, argv[2], &type, &mlen, &mdata, NULL, NULL));
  if (type != napi_int32_array || mlen < 3) {
    napi_throw_type_error(env, NULL, "batched-io: meta must be an Int32Array of at least 3");
    return NULL;
  }
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
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  if (uv_poll_init(loop, &b->poll, b->ep) != 0 || uv_poll_start(&b->poll, UV_READABLE, on_poll) != 0) {
    close(b->ep);
    napi_throw_error(env, NULL, "batched-io: uv_poll on the epoll descriptor failed");
    return NULL;
  }
  b->poll.data = b;
  b->polling = 1;
  // The handle must not keep the process alive on its own: each socket does.
  uv_unref((uv_handle_t *)&b->poll);
  napi_value ok;
  napi_get_boolean(env, 1, &ok);
  return ok;
}

static int ctl(Batch *b, int op, int fd, int32_t id, uint32_t events) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = events;
  ev.data.u64 = ((uint64_t)(uint32_t)id << 32) | (uint32_t)fd;
  return epoll_ctl(b->ep, op, fd, &ev) == 0 ? 0 : -errno;
}

// setBuffer(buffer): read the next batches into this Buffer (>= 64 KiB) instead; the caller
// keeps the old one for as long as it holds views of it.
static napi_value SetBuffer(napi_env env, napi_callback_info info) {
  Batch *b;
  CHECK(napi_get_instance_data(env, (void **)&b));
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *data;
  size_t len;
  CHECK(napi_get_buffer_info(env, argv[0], &data, &len));
  if (len < READ_BYTES) {
    napi_throw_range_error(env, NULL, "batched-io: the read buffer must hold at least 64 KiB");
    return NULL;
  }
  if (b->bufRef != NULL) napi_delete_reference(env, b->bufRef);
  CHECK(napi_create_reference(env, argv[0], 1, &b->bufRef));
  b->buf = data;
  b->bufLen = len;
  napi_value ok;
  napi_get_boolean(env, 1, &ok);
  return ok;
}

// add(fd, id): watch fd for reading. watch(fd, id, on): readable again or not. remove(fd).
// Each returns 0 or -errno.
static napi_value Add(napi_env env, napi_callback_info info) {
  Batch *b;
  CHECK(napi_get_instance_data(env, (void **)&b));
  int32_t a[2];
  if (get_i32(env, info, 2, a) == NULL) return NULL;
  return ret_i32(env, ctl(b, EPOLL_CTL_ADD, a[0], a[1], EPOLLIN | EPOLLRDHUP));
}

static napi_value Watch(napi_env env, napi_callback_info info) {
  Batch *b;
  CHECK(napi_get_instance_data(env, (void **)&b));
  int32_t a[3];
  if (get_i32(env, info, 3, a) == NULL) return NULL;
  return ret_i32(env, ctl(b, EPOLL_CTL_MOD, a[0], a[1], a[2] ? (EPOLLIN | EPOLLRDHUP) : 0));
}

static napi_value Remove(napi_env env, napi_callback_info info) {
  Batch *b;
  CHECK(napi_get_instance_data(env, (void **)&b));
  int32_t a[1];
  if (get_i32(env, info, 1, a) == NULL) return NULL;
  return ret_i32(env, ctl(b, EPOLL_CTL_DEL, a[0], 0, 0));
}

// write(fd, buffer): one write(2) of the whole Buffer; the bytes written, or -errno.
static napi_value Write(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  void *data;
  size_t len;
  CHECK(napi_get_buffer_info(env, argv[1], &data, &len));
  ssize_t r;
  do r = write(fd, data, len);
  while (r < 0 && errno == EINTR);
  return ret_i32(env, r < 0 ? -errno : (int32_t)r);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Batch *b = data;
  if (b->polling) {
    uv_poll_stop(&b->poll);
    // The handle's memory is this struct: leak it rather than free it under a closing handle.
    uv_close((uv_handle_t *)&b->poll, NULL);
    close(b->ep);
    return;
  }
  free(b);
}

NAPI_MODULE_INIT() {
  Batch *b = calloc(1, sizeof(Batch));
  if (b == NULL) return NULL;
  b->env = env;
  b->ep = -1;
  if (napi_set_instance_data(env, b, finalize, NULL) != napi_ok) return NULL;
  napi_property_descriptor props[] = {
      {"open", NULL, Open, NULL, NULL, NULL, napi_default, NULL},
      {"add", NULL, Add, NULL, NULL, NULL, napi_default, NULL},
      {"watch", NULL, Watch, NULL, NULL, NULL, napi_default, NULL},
      {"remove", NULL, Remove, NULL, NULL, NULL, napi_default, NULL},
      {"write", NULL, Write, NULL, NULL, NULL, napi_default, NULL},
      {"setBuffer", NULL, SetBuffer, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
