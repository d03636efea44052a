#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "runner/record/artifacts.h"
#include "runner/cell/snapshot.h"

/* Deeper trees than this are refused (a runaway agent's mkdir loop). */
#define MAX_DEPTH 256
/* Files up to this size go into the snapshot's pack; larger ones are
 * streamed into a loose object. */
#define SMALL_FILE (1u << 20)

struct cab_snapshot_store {
  git_repository *repo;
  git_odb *odb;
};

static pthread_once_t git_once = PTHREAD_ONCE_INIT;

static void
git_setup(void)
{
  /* The store may be created by root and read by the test user, or the
   * other way round; it is ours either way. */
  git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
}

static int
git_fail(cab_error *err, const char *what)
{
  const git_error *e = git_error_last();
  return cab_error_set(err, 0, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

/* Is PATH (resolved) equal to or below DIR (resolved)? */
static bool
path_within(const char *path, const char *dir)
{
  size_t n = strlen(dir);
  if (n == 1 && dir[0] == '/')
    return true;
  return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* DIRFD/NAME with TEXT, created or replaced (0600). */
static int
store_file(int dirfd, const char *name, const char *text, cab_error *err)
{
  cleanup_close int fd =
      openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  size_t len = strlen(text);
  if (fd < 0 || write(fd, text, len) != (ssize_t)len)
    return cab_error_sys(err, "write %s", name);
  return 0;
}

/* A new bare store: what git and libgit2 need to open it (objects/pack/,
 * refs/, config, HEAD) and nothing more.  git_repository_init also writes
 * git's templates (description, hooks/, info/exclude, refs/heads/ and
 * refs/tags/) and rewrites config three times under a lock file: measured
 * 2.8-5.3 ms of CPU against 1.1-1.6 ms for this on ext4 without a journal,
 * where every new inode costs a search past recently deleted ones, and a
 * cell makes one store.  HEAD comes last, by rename: a store with HEAD is
 * complete (a crash before leaves one that the next open completes). */
static int
store_create(const char *store_dir, cab_error *err)
{
  cleanup_close int dir = open(store_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0)
    return cab_error_sys(err, "open %s", store_dir);
  static const char *const dirs[] = {"objects", "objects/pack", "refs"};
  for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
    if (mkdirat(dir, dirs[i], 0700) < 0 && errno != EEXIST)
      return cab_error_sys(err, "create %s/%s", store_dir, dirs[i]);
  if (store_file(dir, "config", "[core]\n\trepositoryformatversion = 0\n\tbare = true\n", err) < 0 ||
      store_file(dir, "HEAD.new", "ref: refs/heads/main\n", err) < 0)
    return cab_error_prefix(err, store_dir);
  if (renameat(dir, "HEAD.new", dir, "HEAD") < 0)
    return cab_error_sys(err, "create %s/HEAD", store_dir);
  return 0;
}

int
cab_snapshot_store_open(const char *store_dir, const char *workdir,
                        struct cab_snapshot_store **out, cab_error *err)
{
  if (git_libgit2_init() < 0)
    return git_fail(err, "libgit2 init");
  pthread_once(&git_once, git_setup);
  if (cab_mkdir_p(store_dir, 0700, err) < 0) {
    git_libgit2_shutdown();
    return cab_error_prefix(err, "snapshot store");
  }
  if (workdir) {
    char rs[PATH_MAX], rw[PATH_MAX];
    if (realpath(store_dir, rs) == NULL || realpath(workdir, rw) == NULL) {
      git_libgit2_shutdown();
      return cab_error_sys(err, "snapshot store %s / workdir %s", store_dir, workdir);
    }
    if (path_within(rs, rw)) {
      git_libgit2_shutdown();
      return cab_error_set(err, 0,
                           "snapshot store %s is inside the workdir %s; put it outside, where "
                           "the agent cannot reach it",
                           store_dir, workdir);
    }
  }
  struct cab_snapshot_store *s = calloc(1, sizeof *s);
  if (s == NULL) {
    git_libgit2_shutdown();
    return cab_error_sys(err, "snapshot store");
  }
  char head[PATH_MAX];
  snprintf(head, sizeof head, "%s/HEAD", store_dir);
  if (access(head, F_OK) < 0 && store_create(store_dir, err) < 0) {
    cab_snapshot_store_close(s);
    return cab_error_prefix(err, "snapshot store");
  }
  if (git_repository_open_bare(&s->repo, store_dir) < 0 ||
      git_repository_odb(&s->odb, s->repo) < 0) {
    git_fail(err, store_dir);
    cab_snapshot_store_close(s);
    return cab_error_prefix(err, "snapshot store");
  }
  *out = s;
  return 0;
}

void
cab_snapshot_store_close(struct cab_snapshot_store *s)
{
  if (s == NULL)
    return;
  git_odb_free(s->odb);
  git_repository_free(s->repo);
  free(s);
  git_libgit2_shutdown();
}

/* ---- the snapshot's packfile --------------------------------------------------
 *
 * Every object a snapshot needs that the store lacks goes into one packfile
 * (undeltified, zlib level 1), indexed by libgit2's indexer when the
 * snapshot is complete: one file instead of a loose object per blob, and
 * none of the packbuilder's delta search.  Trees and the commit are
 * serialised here too (git's canonical formats), so nothing is read back
 * from the store while a snapshot is taken. */

struct pack {
  unsigned char *p;
  size_t len, cap;
  uint32_t count;
  z_stream z;          /* one deflate state, reset per object */
  bool z_ready;
  git_oid *set;        /* open-addressing set of the objects already in it */
  size_t set_cap;
};

static int
pack_reserve(struct pack *pk, size_t more)
{
  if (pk->len + more <= pk->cap)
    return 0;
  size_t cap = pk->cap ? pk->cap : 1 << 16;
  while (cap < pk->len + more)
    cap *= 2;
  unsigned char *np = realloc(pk->p, cap);
  if (np == NULL)
    return -1;
  pk->p = np;
  pk->cap = cap;
  return 0;
}

static size_t
oid_slot(const git_oid *id, size_t cap)
{
  size_t h;
  memcpy(&h, id->id, sizeof h);
  return h & (cap - 1);
}

/* Add ID to the set; false if it was there already. */
static bool
set_add(struct pack *pk, const git_oid *id)
{
  if ((pk->count + 1) * 2 > pk->set_cap) {
    size_t cap = pk->set_cap ? pk->set_cap * 2 : 1024;
    git_oid *ns = calloc(cap, sizeof *ns);
    if (ns == NULL)
      abort();
    for (size_t i = 0; i < pk->set_cap; i++) {
      if (git_oid_is_zero(&pk->set[i]))
        continue;
      size_t j = oid_slot(&pk->set[i], cap);
      while (!git_oid_is_zero(&ns[j]))
        j = (j + 1) & (cap - 1);
      ns[j] = pk->set[i];
    }
    free(pk->set);
    pk->set = ns;
    pk->set_cap = cap;
  }
  size_t j = oid_slot(id, pk->set_cap);
  while (!git_oid_is_zero(&pk->set[j])) {
    if (git_oid_equal(&pk->set[j], id))
      return false;
    j = (j + 1) & (pk->set_cap - 1);
  }
  pk->set[j] = *id;
  return true;
}

struct walk {
  struct cab_snapshot_store *s;
  struct pack pack;
  char *buf;
  size_t cap;
  size_t n_files;
  struct cab_strv git_dirs;
  cab_error *err;
};

/* Hash an object and, when the store and the pack lack it, pack it. */
static int
put_object(struct walk *w, git_object_t type, const void *data, size_t len, git_oid *oid)
{
  if (git_odb_hash(oid, data, len, type) < 0)
    return git_fail(w->err, "hash object");
  if (git_odb_exists_ext(w->s->odb, oid, GIT_ODB_LOOKUP_NO_REFRESH))
    return 0;
  struct pack *pk = &w->pack;
  if (!set_add(pk, oid))
    return 0;
  uLong bound = compressBound((uLong)len);
  if (pack_reserve(pk, 16 + bound) < 0)
    return cab_error_sys(w->err, "snapshot pack");
  /* type and size: 3 type bits and 4 size bits, then 7 size bits a byte */
  size_t size = len;
  unsigned char c = (unsigned char)((type << 4) | (size & 0x0f));
  size >>= 4;
  while (size) {
    pk->p[pk->len++] = c | 0x80;
    c = size & 0x7f;
    size >>= 7;
  }
  pk->p[pk->len++] = c;
  if (!pk->z_ready) {
    if (deflateInit(&pk->z, 1) != Z_OK)
      return cab_error_set(w->err, ENOMEM, "snapshot pack: zlib init failed");
    pk->z_ready = true;
  } else if (deflateReset(&pk->z) != Z_OK) {
    return cab_error_set(w->err, 0, "snapshot pack: zlib reset failed");
  }
  pk->z.next_in = (Bytef *)data;
  pk->z.avail_in = (uInt)len;
  pk->z.next_out = pk->p + pk->len;
  pk->z.avail_out = (uInt)bound;
  if (deflate(&pk->z, Z_FINISH) != Z_STREAM_END)
    return cab_error_set(w->err, 0, "snapshot pack: zlib failed");
  pk->len += bound - pk->z.avail_out;
  pk->count++;
  return 0;
}

/* Write the pack (if it holds anything) into the store and index it. */
static int
pack_store(struct walk *w)
{
  struct pack *pk = &w->pack;
  if (pk->count == 0)
    return 0;
  pk->p[8] = (unsigned char)(pk->count >> 24);
  pk->p[9] = (unsigned char)(pk->count >> 16);
  pk->p[10] = (unsigned char)(pk->count >> 8);
  pk->p[11] = (unsigned char)pk->count;
  if (pack_reserve(pk, 20) < 0)
    return cab_error_sys(w->err, "snapshot pack");
  unsigned int mdlen = 0;
  if (EVP_Digest(pk->p, pk->len, pk->p + pk->len, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != 20)
    return cab_error_set(w->err, 0, "snapshot pack: sha1 failed");
  pk->len += 20;
  git_odb_writepack *wp = NULL;
  git_indexer_progress stats = {0};
  int ret = 0;
  if (git_odb_write_pack(&wp, w->s->odb, NULL, NULL) < 0 ||
      wp->append(wp, pk->p, pk->len, &stats) < 0 || wp->commit(wp, &stats) < 0)
    ret = git_fail(w->err, "store snapshot pack");
  if (wp)
    wp->free(wp);
  if (ret == 0 && git_odb_refresh(w->s->odb) < 0)
    ret = git_fail(w->err, "refresh snapshot store");
  return ret;
}

/* ---- walking the workdir -------------------------------------------------------- */

static int
placeholder(struct walk *w, const char *what, int errnum, git_oid *oid)
{
  char text[128];
  int n = snprintf(text, sizeof text, "cab: unreadable %s (%s)\n", what, strerror(errnum));
  return put_object(w, GIT_OBJECT_BLOB, text, (size_t)n, oid);
}

static int
read_all(int fd, struct walk *w, size_t want, size_t *got)
{
  if (w->cap < want + 1) {
    char *nb = realloc(w->buf, want + 1);
    if (nb == NULL)
      return cab_error_sys(w->err, "snapshot buffer");
    w->buf = nb;
    w->cap = want + 1;
  }
  size_t used = 0;
  while (used < want) {
    ssize_t n = read(fd, w->buf + used, want - used);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    if (n == 0)
      break;
    used += (size_t)n;
  }
  *got = used;
  return 0;
}

/* A regular file's blob; *EXEC from the owner's x bit. */
static int
file_blob(struct walk *w, int dfd, const char *name, const char *rel, git_oid *oid, bool *exec)
{
  cleanup_close int fd =
      openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return placeholder(w, "file", errno, oid);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return cab_error_sys(w->err, "stat %s", rel);
  *exec = (st.st_mode & S_IXUSR) != 0;
  if (!S_ISREG(st.st_mode))
    return placeholder(w, "file", EINVAL, oid);
  size_t size = (size_t)st.st_size;
  if (size <= SMALL_FILE) {
    size_t got;
    int r = read_all(fd, w, size, &got);
    if (r < 0)
      return r == -1 ? -1 : placeholder(w, "file", -r, oid);
    return put_object(w, GIT_OBJECT_BLOB, w->buf, got, oid);
  }
  /* Large: stream it in 1 MiB pieces into a loose object. */
  git_odb_stream *stream;
  if (git_odb_open_wstream(&stream, w->s->odb, (git_object_size_t)size, GIT_OBJECT_BLOB) < 0)
    return git_fail(w->err, rel);
  size_t left = size;
  int ret = 0;
  while (left > 0) {
    size_t got, want = left < SMALL_FILE ? left : SMALL_FILE;
    int r = read_all(fd, w, want, &got);
    if (r < 0 || got == 0) {
      ret = r == -1 ? -1 : cab_error_set(w->err, r < 0 ? -r : 0, "%s changed while read", rel);
      break;
    }
    if (git_odb_stream_write(stream, w->buf, got) < 0) {
      ret = git_fail(w->err, rel);
      break;
    }
    left -= got;
  }
  if (ret == 0 && git_odb_stream_finalize_write(oid, stream) < 0)
    ret = git_fail(w->err, rel);
  git_odb_stream_free(stream);
  return ret;
}

static int
link_blob(struct walk *w, int dfd, const char *name, git_oid *oid)
{
  char target[PATH_MAX + 1];
  ssize_t n = readlinkat(dfd, name, target, sizeof target - 1);
  if (n < 0)
    return placeholder(w, "symlink", errno, oid);
  return put_object(w, GIT_OBJECT_BLOB, target, (size_t)n, oid);
}

static char *
join(const char *rel, const char *name)
{
  size_t a = strlen(rel), b = strlen(name);
  char *p = malloc(a + b + 2);
  if (p == NULL)
    return NULL;
  if (a) {
    memcpy(p, rel, a);
    p[a++] = '/';
  }
  memcpy(p + a, name, b + 1);
  return p;
}

struct entry {
  char *name;
  size_t len;
  uint32_t mode;
  git_oid oid;
};

/* git's tree order: names compared bytewise, a directory as if it ended in '/'. */
static int
entry_cmp(const void *pa, const void *pb)
{
  const struct entry *a = pa, *b = pb;
  size_t n = a->len < b->len ? a->len : b->len;
  int r = memcmp(a->name, b->name, n);
  if (r)
    return r;
  unsigned char ca = a->len > n ? (unsigned char)a->name[n] : a->mode == 040000 ? '/' : 0;
  unsigned char cb = b->len > n ? (unsigned char)b->name[n] : b->mode == 040000 ? '/' : 0;
  return (int)ca - (int)cb;
}

static void
free_entries(struct entry *e, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(e[i].name);
  free(e);
}

/* Serialise and store the tree of entries E (sorted here). */
static int
write_tree(struct walk *w, struct entry *e, size_t n, git_oid *tree)
{
  qsort(e, n, sizeof *e, entry_cmp);
  size_t len = 0;
  for (size_t i = 0; i < n; i++)
    len += 8 + e[i].len + 20;
  unsigned char *buf = malloc(len ? len : 1), *p = buf;
  if (buf == NULL)
    return cab_error_sys(w->err, "snapshot tree");
  for (size_t i = 0; i < n; i++) {
    p += sprintf((char *)p, "%o ", (unsigned)e[i].mode);
    memcpy(p, e[i].name, e[i].len + 1); /* with the NUL */
    p += e[i].len + 1;
    memcpy(p, e[i].oid.id, 20);
    p += 20;
  }
  int r = put_object(w, GIT_OBJECT_TREE, buf, (size_t)(p - buf), tree);
  free(buf);
  return r;
}

/* Snapshot the directory DFD (at REL) into a tree; *EMPTY when it holds
 * nothing recordable (no tree is written then).  Takes ownership of DFD. */
static int
walk_dir(struct walk *w, int dfd, const char *rel, int depth, git_oid *tree, bool *empty)
{
  if (depth > MAX_DEPTH) {
    close(dfd);
    return cab_error_set(w->err, ELOOP, "%s: directories nested deeper than %d", rel, MAX_DEPTH);
  }
  cleanup_dir DIR *d = fdopendir(dfd);
  if (d == NULL) {
    int e = errno;
    close(dfd);
    return cab_error_set(w->err, e, "open directory %s", rel[0] ? rel : ".");
  }
  struct entry *ents = NULL;
  size_t n = 0, cap = 0;
  int ret = 0;
  struct dirent *de;
  for (;;) {
    errno = 0;
    if ((de = readdir(d)) == NULL)
      break;
    const char *name = de->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
      continue;
    cleanup_free char *path = join(rel, name);
    if (path == NULL) {
      ret = cab_error_sys(w->err, "snapshot");
      break;
    }
    /* Exactly ".git" (what git itself treats as a repository); ".GIT" and
     * the like are ordinary names here, so nothing can hide behind them. */
    if (strcmp(name, ".git") == 0) {
      cab_strv_xpush(&w->git_dirs, path);
      continue;
    }
    /* The entry's type from readdir when the filesystem gives it (saves a
     * stat per file); the file's own fstat gives the executable bit. */
    mode_t type;
    if (de->d_type == DT_REG)
      type = S_IFREG;
    else if (de->d_type == DT_DIR)
      type = S_IFDIR;
    else if (de->d_type == DT_LNK)
      type = S_IFLNK;
    else {
      struct stat st;
      if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
          continue;
        ret = cab_error_sys(w->err, "stat %s", path);
        break;
      }
      type = st.st_mode & S_IFMT;
    }
    git_oid oid;
    uint32_t mode;
    if (type == S_IFDIR) {
      int sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) {
        if (placeholder(w, "directory", errno, &oid) < 0) {
          ret = -1;
          break;
        }
        mode = 0100644;
      } else {
        bool sub_empty;
        if (walk_dir(w, sub, path, depth + 1, &oid, &sub_empty) < 0) {
          ret = -1;
          break;
        }
        if (sub_empty)
          continue;
        mode = 040000;
      }
    } else if (type == S_IFREG) {
      bool exec = false;
      if (file_blob(w, dirfd(d), name, path, &oid, &exec) < 0) {
        ret = -1;
        break;
      }
      mode = exec ? 0100755 : 0100644;
    } else if (type == S_IFLNK) {
      if (link_blob(w, dirfd(d), name, &oid) < 0) {
        ret = -1;
        break;
      }
      mode = 0120000;
    } else {
      continue; /* fifo, socket, device: git cannot hold them */
    }
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      struct entry *ne = realloc(ents, cap * sizeof *ents);
      if (ne == NULL) {
        ret = cab_error_sys(w->err, "snapshot");
        break;
      }
      ents = ne;
    }
    ents[n] = (struct entry){.name = strdup(name), .len = strlen(name), .mode = mode, .oid = oid};
    if (ents[n].name == NULL) {
      ret = cab_error_sys(w->err, "snapshot");
      break;
    }
    n++;
    if (mode != 040000)
      w->n_files++;
  }
  if (ret == 0 && de == NULL && errno != 0)
    ret = cab_error_sys(w->err, "read directory %s", rel[0] ? rel : ".");
  if (ret == 0) {
    *empty = n == 0;
    if (n > 0)
      ret = write_tree(w, ents, n, tree);
  }
  free_entries(ents, n);
  return ret;
}

static bool
valid_label(const char *l)
{
  if (*l == '\0' || *l == '.')
    return false;
  for (; *l; l++)
    if (!(('a' <= *l && *l <= 'z') || ('A' <= *l && *l <= 'Z') || ('0' <= *l && *l <= '9') ||
          *l == '-' || *l == '_' || *l == '.'))
      return false;
  return true;
}

/* The commit: fixed author and time, message "cab snapshot" and one line
 * "git-dir: PATH" per .git found (bytes < 0x20, '%' and 0x7f as %XX). */
static char *
commit_text(const git_oid *tree, const struct cab_strv *dirs, size_t *len)
{
  size_t cap = 256;
  for (size_t i = 0; i < dirs->n; i++)
    cap += 3 * strlen(dirs->v[i]) + 16;
  char *m = malloc(cap), *p = m;
  if (m == NULL)
    return NULL;
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, tree);
  p += sprintf(p,
               "tree %s\nauthor cab <cab@localhost> 0 +0000\n"
               "committer cab <cab@localhost> 0 +0000\n\ncab snapshot\n",
               hex);
  if (dirs->n)
    *p++ = '\n';
  for (size_t i = 0; i < dirs->n; i++) {
    p += sprintf(p, "git-dir: ");
    for (const unsigned char *c = (const unsigned char *)dirs->v[i]; *c; c++) {
      if (*c < 0x20 || *c == '%' || *c == 0x7f)
        p += sprintf(p, "%%%02X", *c);
      else
        *p++ = (char)*c;
    }
    *p++ = '\n';
  }
  *p = '\0';
  *len = (size_t)(p - m);
  return m;
}

int
cab_snapshot_take(struct cab_snapshot_store *s, const char *workdir, const char *label,
                  struct cab_snapshot *out, cab_error *err)
{
  memset(out, 0, sizeof *out);
  if (label && !valid_label(label))
    return cab_error_set(err, 0, "snapshot label '%s': use letters, digits, '-', '_', '.'", label);
  int64_t t0 = cab_now_ns();
  int dfd = open(workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return cab_error_sys(err, "snapshot %s", workdir);

  struct walk w = {.s = s, .err = err};
  int ret = pack_reserve(&w.pack, 12);
  if (ret < 0) {
    close(dfd);
    return cab_error_sys(err, "snapshot pack");
  }
  memcpy(w.pack.p, "PACK\0\0\0\2\0\0\0\0", 12);
  w.pack.len = 12;
  git_oid tree_oid, commit_oid;
  bool empty = false;
  ret = walk_dir(&w, dfd, "", 0, &tree_oid, &empty);
  if (ret == 0 && empty)
    ret = put_object(&w, GIT_OBJECT_TREE, "", 0, &tree_oid);
  if (ret == 0) {
    size_t clen;
    cleanup_free char *c = commit_text(&tree_oid, &w.git_dirs, &clen);
    ret = c ? put_object(&w, GIT_OBJECT_COMMIT, c, clen, &commit_oid)
            : cab_error_sys(err, "snapshot commit");
  }
  if (ret == 0)
    ret = pack_store(&w);
  if (ret == 0 && label) {
    char ref[128];
    git_reference *r;
    snprintf(ref, sizeof ref, "refs/cab/%s", label);
    if (git_reference_create(&r, s->repo, ref, &commit_oid, 1, "cab snapshot") < 0)
      ret = git_fail(err, ref);
    else
      git_reference_free(r);
  }
  if (ret == 0) {
    git_oid_tostr(out->id, sizeof out->id, &commit_oid);
    git_oid_tostr(out->tree, sizeof out->tree, &tree_oid);
    out->n_files = w.n_files;
    out->n_git_dirs = w.git_dirs.n;
    out->elapsed_us = (cab_now_ns() - t0) / 1000;
  } else {
    cab_error_prefix(err, "snapshot %s", workdir);
  }
  free(w.buf);
  free(w.pack.p);
  free(w.pack.set);
  if (w.pack.z_ready)
    deflateEnd(&w.pack.z);
  cab_strv_free(&w.git_dirs);
  return ret;
}

/* ---- diffing ------------------------------------------------------------------ */

static int
resolve_commit(struct cab_snapshot_store *s, const char *id, git_commit **out, cab_error *err)
{
  git_object *obj;
  char spec[256];
  if (valid_label(id) && strlen(id) != 40) {
    snprintf(spec, sizeof spec, "refs/cab/%s", id);
    id = spec;
  }
  if (git_revparse_single(&obj, s->repo, id) < 0)
    return git_fail(err, id);
  int r = git_object_peel((git_object **)out, obj, GIT_OBJECT_COMMIT);
  git_object_free(obj);
  if (r < 0)
    return git_fail(err, id);
  return 0;
}

static void
parse_git_dirs(const char *msg, struct cab_strv *out)
{
  for (const char *p = msg; p && *p;) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    if (n > 9 && strncmp(p, "git-dir: ", 9) == 0) {
      char *dec = malloc(n), *o = dec;
      if (dec == NULL)
        return;
      for (size_t i = 9; i < n; i++) {
        unsigned v;
        if (p[i] == '%' && i + 2 < n && sscanf(p + i + 1, "%2X", &v) == 1) {
          *o++ = (char)v;
          i += 2;
        } else {
          *o++ = p[i];
        }
      }
      *o = '\0';
      cab_strv_xpush(out, dec);
      free(dec);
    }
    p = nl ? nl + 1 : NULL;
  }
}

int
cab_snapshot_git_dirs(struct cab_snapshot_store *s, const char *id, struct cab_strv *out,
                      cab_error *err)
{
  git_commit *c;
  if (resolve_commit(s, id, &c, err) < 0)
    return -1;
  parse_git_dirs(git_commit_message_raw(c), out);
  git_commit_free(c);
  return 0;
}

struct patch_buf {
  char *p;
  size_t len, cap;
  int failed;
};

static int
patch_line(const git_diff_delta *delta, const git_diff_hunk *hunk, const git_diff_line *line,
           void *payload)
{
  struct patch_buf *b = payload;
  size_t need = line->content_len + 2;
  if (b->len + need + 1 > b->cap) {
    size_t ncap = b->cap ? b->cap : 4096;
    while (b->len + need + 1 > ncap)
      ncap *= 2;
    char *np = realloc(b->p, ncap);
    if (np == NULL) {
      b->failed = 1;
      return -1;
    }
    b->p = np;
    b->cap = ncap;
  }
  if (line->origin == GIT_DIFF_LINE_CONTEXT || line->origin == GIT_DIFF_LINE_ADDITION ||
      line->origin == GIT_DIFF_LINE_DELETION)
    b->p[b->len++] = line->origin;
  memcpy(b->p + b->len, line->content, line->content_len);
  b->len += line->content_len;
  b->p[b->len] = '\0';
  return 0;
}

int
cab_snapshot_diff(struct cab_snapshot_store *s, const char *old_id, const char *new_id,
                  struct cab_change_list *changes, char **patch, size_t *patch_len,
                  cab_error *err)
{
  memset(changes, 0, sizeof *changes);
  if (patch) {
    *patch = NULL;
    *patch_len = 0;
  }
  git_commit *oc = NULL, *nc = NULL;
  git_tree *ot = NULL, *nt = NULL;
  git_diff *diff = NULL;
  struct patch_buf pb = {0};
  struct cab_strv old_dirs = {0};
  int ret = -1;
  if (resolve_commit(s, old_id, &oc, err) < 0 || resolve_commit(s, new_id, &nc, err) < 0)
    goto out;
  if (git_commit_tree(&ot, oc) < 0 || git_commit_tree(&nt, nc) < 0) {
    git_fail(err, "snapshot tree");
    goto out;
  }
  git_diff_options opts;
  git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
  opts.flags = GIT_DIFF_INCLUDE_TYPECHANGE;
  if (git_diff_tree_to_tree(&diff, s->repo, ot, nt, &opts) < 0) {
    git_fail(err, "diff snapshots");
    goto out;
  }
  /* Printing loads every blob, which also settles each delta's binary flag. */
  if (git_diff_print(diff, GIT_DIFF_FORMAT_PATCH, patch_line, &pb) < 0) {
    if (pb.failed)
      cab_error_set(err, ENOMEM, CAB_CELL_DIFF);
    else
      git_fail(err, CAB_CELL_DIFF);
    goto out;
  }
  size_t n = git_diff_num_deltas(diff);
  for (size_t i = 0; i < n; i++) {
    const git_diff_delta *d = git_diff_get_delta(diff, i);
    bool binary = (d->flags & GIT_DIFF_FLAG_BINARY) != 0;
    bool content = !git_oid_equal(&d->old_file.id, &d->new_file.id);
    switch (d->status) {
    case GIT_DELTA_ADDED:
      cab_change_list_add(changes, d->new_file.path, CAB_CHANGE_ADDED, CAB_KIND_CONTENT, 0,
                          d->new_file.mode, binary);
      break;
    case GIT_DELTA_DELETED:
      cab_change_list_add(changes, d->old_file.path, CAB_CHANGE_REMOVED, CAB_KIND_CONTENT,
                          d->old_file.mode, 0, binary);
      break;
    case GIT_DELTA_MODIFIED:
      cab_change_list_add(changes, d->new_file.path, CAB_CHANGE_MODIFIED,
                          (content ? CAB_KIND_CONTENT : 0) |
                              (d->old_file.mode != d->new_file.mode ? CAB_KIND_MODE : 0),
                          d->old_file.mode, d->new_file.mode, binary);
      break;
    case GIT_DELTA_TYPECHANGE:
      cab_change_list_add(changes, d->new_file.path, CAB_CHANGE_MODIFIED,
                          CAB_KIND_TYPE | (content ? CAB_KIND_CONTENT : 0), d->old_file.mode,
                          d->new_file.mode, binary);
      break;
    default:
      break;
    }
  }
  parse_git_dirs(git_commit_message_raw(oc), &old_dirs);
  struct cab_strv new_dirs = {0};
  parse_git_dirs(git_commit_message_raw(nc), &new_dirs);
  for (size_t i = 0; i < new_dirs.n; i++)
    if (!cab_strv_contains(&old_dirs, new_dirs.v[i]))
      cab_strv_xpush(&changes->git_dirs, new_dirs.v[i]);
  cab_strv_free(&new_dirs);
  changes->extra_git_dir = changes->git_dirs.n > 0;
  if (patch) {
    *patch = pb.p ? pb.p : strdup("");
    *patch_len = pb.len;
    pb.p = NULL;
    if (*patch == NULL) {
      cab_error_sys(err, CAB_CELL_DIFF);
      goto out;
    }
  }
  ret = 0;
out:
  if (ret < 0)
    cab_change_list_free(changes);
  free(pb.p);
  cab_strv_free(&old_dirs);
  git_diff_free(diff);
  git_tree_free(ot);
  git_tree_free(nt);
  git_commit_free(oc);
  git_commit_free(nc);
  return ret;
}
