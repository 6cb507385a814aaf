// Batched reads for the gateway's plain TCP sockets: the event loop watches each socket through
// a uv_poll handle of its own; each poll callback does that socket's one read(2) into one shared
// buffer, and once the loop's poll phase is over a check handle calls JavaScript once for the
// whole batch, instead of once per socket as Node's streams do (a JS callback per read, with its
// callback scope, was the largest part of the gateway's user CPU per unpipelined command).
// Writes: write(2) of a descriptor from a Buffer, without fs.writeSync()'s request object.
//
// One poll handle per socket rather than an epoll set of the addon's watched through one handle:
// libuv's own epoll_wait then says which sockets are ready, where the set of our own cost every
// wake-up a second epoll_wait (two per command for a lone client: its request, then the reply).
//
// JavaScript side: src/net/batched-io.ts. Linux only; built by scripts/build-native.js.
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <uv.h>

// Reads in one batch at most (and no more than the meta array holds).
#define MAX_READS 256
// A read takes at most this many bytes; the batch ends while the shared buffer has less room.
#define READ_BYTES 65536

typedef struct Sock Sock;

typedef struct {
  napi_env env;
  uv_check_t check;  // hands the batch to JS after each poll phase
  napi_ref onBatch;   // function (count): meta[3i..3i+2] = id, bytes read (0 EOF, <0 -errno), offset
  napi_ref resource;  // async resource for napi_make_callback
  napi_async_context actx;
  napi_ref bufRef, metaRef;
  uint8_t *buf;
  size_t bufLen;
  int32_t *meta;
  size_t maxReads;
  size_t off;  // bytes of buf the batch being read holds
  size_t k;    // its triples in meta
  Sock **table;  // the sockets by id: chained, `mask + 1` buckets
  uint32_t mask;
  uint32_t count;
} Batch;

// A socket in the batch. Its poll watches a dup() of the socket's descriptor: libuv refuses a
// second watcher on a descriptor (uv_poll_init: UV_EEXIST), and Node's TCP handle owns the
// original. The dup keeps the connection open (the socket is closed when its last descriptor is):
// it must be closed when the socket leaves the batch. Records go by the id JavaScript gave, as
// the original's number may name another socket once Node closed it.
struct Sock {
  uv_poll_t poll;  // poll.data: this record
  Batch *b;
  Sock *next;  // in its bucket
  int fd;      // the dup
  int32_t id;
  int ended;  // end of stream or an error reported: never read again
};

#define CHECK(call)                                          \
  do {                                                       \
    if ((call) != napi_ok) {                                 \
      napi_throw_error(env, NULL, "batched-io: " #call);     \
      return NULL;                                           \
    }                                                        \
  } while (0)

static void free_data(uv_handle_t *h) { free(h->data); }

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  Sock *s = (Sock *)h->data;
  Batch *b = s->b;
  // A full batch: the socket is left ready. epoll is level-triggered for libuv's watchers, so the
  // next poll phase (which does not block: there is something to read) reports it again; unless
  // libuv stopped the poll on an error (below): it is started again for that.
  if (b->k == b->maxReads || b->bufLen - b->off < READ_BYTES) {
    if (status != 0) uv_poll_start(h, UV_READABLE, on_readable);
    return;
  }
  ssize_t r = read(s->fd, b->buf + b->off, READ_BYTES);
  int32_t n = r < 0 ? -errno : (int32_t)r;
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
    // On EPOLLERR libuv has stopped the poll and says UV_EBADF (uv__poll_io): with no error to
    // read either, the socket is reported broken (JavaScript hands it back to Node) rather than
    // left unwatched for good.
    if (status == 0) return;
    n = -EIO;
  }
  if (r > 0 && status != 0) {
    // Bytes before the error (a reset after data): libuv stopped the poll, so it is started again
    // to read the rest, then the error, in the next iterations.
    uv_poll_start(h, UV_READABLE, on_readable);
  } else if (r <= 0) {
    // Once, as before: a socket at end of stream stays readable (level-triggered, it would wake
    // every iteration) until JavaScript takes it out of the batch.
    s->ended = 1;
    uv_poll_stop(h);
  }
  b->meta[3 * b->k] = s->id;
  b->meta[3 * b->k + 1] = n;
  b->meta[3 * b->k + 2] = (int32_t)b->off;
  b->k++;
  if (r > 0) b->off += (size_t)r;
}

// Check handles run right after the poll phase, every loop iteration (uv_run); this one was
// started after Node's (its setImmediate() queue), and libuv runs the last started first
// (uv_check_start inserts at the head), so a batch is handed out before the immediates, as when
// it was handed out in the poll phase.
static void on_check(uv_check_t *h) {
  Batch *b = (Batch *)h->data;
  if (b->k == 0) return;
  int32_t k = (int32_t)b->k;
  // Reset before the call: the next poll phase starts a new batch even if JavaScript throws.
  b->k = 0;
  b->off = 0;
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

static Sock **bucket(Batch *b, int32_t id) { return &b->table[(uint32_t)id & b->mask]; }

// The link that points at the record of `id` in its bucket (at NULL when there is none): what
// find() reads and remove() unlinks.
static Sock **link_of(Batch *b, int32_t id) {
  Sock **p = bucket(b, id);
  while (*p != NULL && (*p)->id != id) p = &(*p)->next;
  return p;
}

static Sock *find(Batch *b, int32_t id) { return *link_of(b, id); }

// Twice the buckets once there are more sockets than buckets (ids are mostly consecutive: they
// spread evenly). Keeps the old table when out of memory: longer chains, nothing lost.
static void grow(Batch *b) {
  uint32_t n = (b->mask + 1) * 2;
  Sock **t = calloc(n, sizeof *t);
  if (t == NULL) return;
  for (uint32_t i = 0; i <= b->mask; i++) {
    for (Sock *s = b->table[i], *next; s != NULL; s = next) {
      next = s->next;
      s->next = t[(uint32_t)s->id & (n - 1)];
      t[(uint32_t)s->id & (n - 1)] = s;
    }
  }
  free(b->table);
  b->table = t;
  b->mask = n - 1;
}

// Stops watching and closes the dup (after the poll stopped: uv_close stops it, and takes the
// descriptor out of libuv's epoll set, uv__platform_invalidate_fd, also dropping its events not
// yet handled in this poll phase). The record is freed once libuv is done with the handle.
static void close_sock(Sock *s) {
  uv_close((uv_handle_t *)&s->poll, free_data);
  close(s->fd);
}

// The batch of args[0] (a handle from open()) and `want` int32 arguments after it.
static Batch *batch_args(napi_env env, napi_callback_info info, size_t want, int32_t *out) {
  size_t argc = want + 1;
  napi_value argv[4];
  Batch *b = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want + 1 ||
      napi_unwrap(env, argv[0], (void **)&b) != napi_ok || b == NULL) {
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

static void free_batch(uv_handle_t *h) {
  Batch *b = (Batch *)h->data;
  free(b->table);
  free(b);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Batch *b = data;  // wrapped only once open: its check handle is running
  for (uint32_t i = 0; i <= b->mask; i++) {
    for (Sock *s = b->table[i], *next; s != NULL; s = next) {
      next = s->next;
      close_sock(s);
    }
  }
  // The check handle's memory is in the struct: freed once libuv is done with it.
  uv_close((uv_handle_t *)&b->check, free_batch);
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
// on bad arguments or when libuv refuses.
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
  Sock **table = calloc(64, sizeof *table);
  if (b == NULL || table == NULL) {
    free(b);
    free(table);
    napi_throw_error(env, NULL, "batched-io: out of memory");
    return NULL;
  }
  b->env = env;
  b->buf = data;
  b->bufLen = len;
  b->meta = mdata;
  b->maxReads = mlen / 3 < MAX_READS ? mlen / 3 : MAX_READS;
  b->table = table;
  b->mask = 63;
  CHECK(napi_create_reference(env, argv[0], 1, &b->onBatch));
  CHECK(napi_create_reference(env, argv[1], 1, &b->bufRef));
  CHECK(napi_create_reference(env, argv[2], 1, &b->metaRef));
  napi_value res, name;
  CHECK(napi_create_object(env, &res));
  CHECK(napi_create_reference(env, res, 1, &b->resource));
  CHECK(napi_create_string_utf8(env, "redfly.batchedRead", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, res, name, &b->actx));
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  if (uv_check_init(loop, &b->check) != 0) {
    napi_throw_error(env, NULL, "batched-io: uv_check_init failed");
    return NULL;  // b is left: a failed open is rare and final (the caller falls back)
  }
  b->check.data = b;
  uv_check_start(&b->check, on_check);  // fails only without a callback
  // The handles must not keep the process alive on their own: each socket does.
  uv_unref((uv_handle_t *)&b->check);
  napi_value handle;
  CHECK(napi_create_object(env, &handle));
  CHECK(napi_wrap(env, handle, b, finalize, NULL, NULL));
  return handle;
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

// add(batch, fd, id): read fd in the batch, as `id` (positive, not in the batch). watch(batch, id,
// on): reading it again or not (backpressure). remove(batch, id): out of the batch for good,
// its socket open or already closed by Node. Each returns 0 or -errno.
static napi_value Add(napi_env env, napi_callback_info info) {
  int32_t a[2];
  Batch *b = batch_args(env, info, 2, a);
  if (b == NULL) return NULL;
  if (find(b, a[1]) != NULL) return ret_i32(env, -EEXIST);
  Sock *s = calloc(1, sizeof(Sock));
  if (s == NULL) return ret_i32(env, -ENOMEM);
  s->fd = fcntl(a[0], F_DUPFD_CLOEXEC, 0);
  if (s->fd < 0) {
    int e = errno;
    free(s);
    return ret_i32(env, -e);
  }
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  // uv_poll_init checks the descriptor can be polled (uv__io_check_fd) and makes it non-blocking
  // (the socket already is: the flag belongs to the socket, shared with Node's descriptor).
  int err = uv_poll_init(loop, &s->poll, s->fd);
  if (err != 0) {
    close(s->fd);
    free(s);
    return ret_i32(env, err);
  }
  // Cannot fail on an initialised handle: it only queues the watcher for the next poll phase.
  uv_poll_start(&s->poll, UV_READABLE, on_readable);
  uv_unref((uv_handle_t *)&s->poll);
  s->poll.data = s;
  s->b = b;
  s->id = a[1];
  Sock **head = bucket(b, s->id);
  s->next = *head;
  *head = s;
  if (++b->count > b->mask + 1) grow(b);
  return ret_i32(env, 0);
}

static napi_value Watch(napi_env env, napi_callback_info info) {
  int32_t a[2];
  Batch *b = batch_args(env, info, 2, a);
  if (b == NULL) return NULL;
  Sock *s = find(b, a[0]);
  if (s == NULL) return ret_i32(env, -ENOENT);
  if (s->ended) return ret_i32(env, 0);  // nothing more to read
  // uv_poll_start on a started poll only updates it; uv_poll_stop on a stopped one does nothing.
  return ret_i32(env, a[1] ? uv_poll_start(&s->poll, UV_READABLE, on_readable) : uv_poll_stop(&s->poll));
}

static napi_value Remove(napi_env env, napi_callback_info info) {
  int32_t a[1];
  Batch *b = batch_args(env, info, 1, a);
  if (b == NULL) return NULL;
  Sock **p = link_of(b, a[0]);
  Sock *s = *p;
  if (s == NULL) return ret_i32(env, -ENOENT);
  *p = s->next;
  b->count--;
  close_sock(s);
  return ret_i32(env, 0);
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

// The interface's version, checked by src/net/batched-io.ts (ADDON_INTERFACE) before it uses the
// addon: a binary left from an older build, with functions of other arguments, is not used.
// Raise it with every change of a function's arguments or meaning.
#define INTERFACE_VERSION 2

NAPI_MODULE_INIT() {
  napi_value version;
  if (napi_create_int32(env, INTERFACE_VERSION, &version) != napi_ok) return NULL;
  napi_property_descriptor props[] = {
      {"interfaceVersion", NULL, NULL, NULL, NULL, version, napi_enumerable, NULL},
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
